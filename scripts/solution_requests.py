from kodcode.snake import log_to
from kodcode.stages.solutions import solution_requests

with log_to(snakemake.log[0]):
    solution_requests(
        snakemake.wildcards.subset, snakemake.input[0], list(snakemake.output.requests), snakemake.output.stats,
        snakemake.params.cfg,
    )
