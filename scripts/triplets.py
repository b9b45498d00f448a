from kodcode.snake import log_to
from kodcode.stages.style import triplets

with log_to(snakemake.log[0]):
    triplets(
        subset=snakemake.wildcards.subset,
        verified_file=snakemake.input.verified,
        style_responses=snakemake.input.responses,
        out_triplets=snakemake.output.triplets,
        out_stats=snakemake.output.stats,
    )
