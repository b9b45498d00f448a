from kodcode.snake import log_to
from kodcode.stages.solutions import parse_solutions

with log_to(snakemake.log[0]):
    parse_solutions(snakemake.wildcards.subset, snakemake.input[0], snakemake.output.attempts, snakemake.output.stats)
