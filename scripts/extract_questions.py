from kodcode.snake import log_to
from kodcode.stages.questions import extract_questions

with log_to(snakemake.log[0]):
    extract_questions(
        subset=snakemake.wildcards.subset,
        response_paths=list(snakemake.input),
        out_questions=snakemake.output.questions,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
