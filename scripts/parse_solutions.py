from kodcode.snake import log_to
from kodcode.stages.solutions import parse_solutions

with log_to(snakemake.log[0]):
    parse_solutions(
        subset=snakemake.wildcards.subset,
        responses_file=snakemake.input[0],
        out_attempts=snakemake.output.attempts,
        out_stats=snakemake.output.stats,
    )
