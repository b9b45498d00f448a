from kodcode.snake import log_to
from kodcode.stages.posttrain import style_requests

with log_to(snakemake.log[0]):
    style_requests(
        snakemake.wildcards.subset, snakemake.input[0], snakemake.output.requests, snakemake.output.stats,
        snakemake.params.cfg,
    )
