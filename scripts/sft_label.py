from kodcode.snake import log_to
from kodcode.stages.posttrain import sft_label

with log_to(snakemake.log[0]):
    sft_label(
        snakemake.wildcards.subset,
        snakemake.input.triplets,
        snakemake.input.attempts,
        snakemake.input.verdicts,
        snakemake.output.labeled,
        snakemake.output.stats,
    )
