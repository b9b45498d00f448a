from kodcode.snake import log_to
from kodcode.stages.style import style_requests

with log_to(snakemake.log[0]):
    style_requests(
        subset=snakemake.wildcards.subset,
        verified_file=snakemake.input[0],
        out_requests=snakemake.output.requests,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
