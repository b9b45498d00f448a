from kodcode.snake import log_to
from kodcode.stages.tagging import tag_requests

with log_to(snakemake.log[0]):
    tag_requests(
        snakemake.wildcards.subset,
        snakemake.input[0],
        list(snakemake.output.requests),
        snakemake.output.stats,
        snakemake.params.cfg,
    )
