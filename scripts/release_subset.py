from kodcode.snake import log_to
from kodcode.stages.release import release_subset

with log_to(snakemake.log[0]):
    release_subset(
        snakemake.wildcards.subset,
        list(snakemake.input.triplets),
        list(snakemake.input.labeled),
        snakemake.output.v1,
        snakemake.output.sft,
        snakemake.params.cfg,
    )
