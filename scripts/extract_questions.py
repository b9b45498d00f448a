from kodcode.snake import log_to
from kodcode.stages.questions import extract_questions

with log_to(snakemake.log[0]):
    extract_questions(
        snakemake.wildcards.subset,
        list(snakemake.input),
        snakemake.output.questions,
        snakemake.output.stats,
        snakemake.params.cfg,
    )
