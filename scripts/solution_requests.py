from kodcode.snake import log_to
from kodcode.stages.solutions import solution_requests

with log_to(snakemake.log[0]):
    solution_requests(
        subset=snakemake.wildcards.subset,
        in_questions=snakemake.input[0],
        out_paths=list(snakemake.output.requests),
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
