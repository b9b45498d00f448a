from kodcode.snake import log_to
from kodcode.stages.posttrain import sft_attempts

with log_to(snakemake.log[0]):
    sft_attempts(
        snakemake.wildcards.subset, snakemake.input.triplets, snakemake.input.responses, snakemake.output.attempts,
        snakemake.output.stats,
    )
