from kodcode.snake import log_to
from kodcode.stages.questions import question_requests

with log_to(snakemake.log[0]):
    question_requests(
        snakemake.wildcards.subset,
        snakemake.input[0] if snakemake.input else None,
        list(snakemake.output.requests),
        snakemake.output.stats,
        snakemake.params.cfg,
    )
