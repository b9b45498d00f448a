from kodcode.snake import log_to
from kodcode.stages.sft import sft_requests

with log_to(snakemake.log[0]):
    sft_requests(
        subset=snakemake.wildcards.subset,
        triplets_file=snakemake.input[0],
        out_requests=snakemake.output.requests,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
