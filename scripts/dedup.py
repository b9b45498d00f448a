from kodcode.snake import log_to
from kodcode.stages.questions import dedup_questions

with log_to(snakemake.log[0]):
    dedup_questions(
        snakemake.wildcards.subset, snakemake.input[0], snakemake.output.questions, snakemake.output.stats,
        snakemake.params.cfg,
    )
