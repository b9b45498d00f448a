from kodcode.snake import log_to
from kodcode.stages.sft import sft_label

with log_to(snakemake.log[0]):
    sft_label(
        subset=snakemake.wildcards.subset,
        triplets_file=snakemake.input.triplets,
        attempts_file=snakemake.input.attempts,
        verdicts_file=snakemake.input.verdicts,
        out_labeled=snakemake.output.labeled,
        out_stats=snakemake.output.stats,
    )
