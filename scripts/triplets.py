from kodcode.snake import log_to
from kodcode.stages.posttrain import triplets

with log_to(snakemake.log[0]):
    triplets(
        snakemake.wildcards.subset, snakemake.input.verified, snakemake.input.responses, snakemake.output.triplets,
        snakemake.output.stats,
    )
