from kodcode.snake import log_to
from kodcode.stages.dedup import dedup

with log_to(snakemake.log[0]):
    dedup(
        subset=snakemake.wildcards.subset,
        in_questions=snakemake.input[0],
        out_questions=snakemake.output.questions,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
