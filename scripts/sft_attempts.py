from kodcode.snake import log_to
from kodcode.stages.sft import sft_attempts

with log_to(snakemake.log[0]):
    sft_attempts(
        subset=snakemake.wildcards.subset,
        triplets_file=snakemake.input.triplets,
        responses_file=snakemake.input.responses,
        out_attempts=snakemake.output.attempts,
        out_stats=snakemake.output.stats,
    )
