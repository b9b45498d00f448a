from kodcode.snake import log_to
from kodcode.stages.posttrain import sft_requests

with log_to(snakemake.log[0]):
    sft_requests(
        snakemake.wildcards.subset, snakemake.input[0], snakemake.output.requests, snakemake.output.stats,
        snakemake.params.cfg,
    )
