from kodcode.snake import log_to
from kodcode.stages.release import release_subset

with log_to(snakemake.log[0]):
    release_subset(
        subset=snakemake.wildcards.subset,
        triplet_files=list(snakemake.input.triplets),
        labeled_files=list(snakemake.input.labeled),
        online_judge_files=list(snakemake.input.online_judge),
        out_v1=snakemake.output.v1,
        out_sft=snakemake.output.sft,
        params=snakemake.params.cfg,
    )
