from kodcode.snake import log_to
from kodcode.stages.tagging import select_tagged

with log_to(snakemake.log[0]):
    select_tagged(
        snakemake.wildcards.subset,
        snakemake.input.seeds,
        list(snakemake.input.responses),
        snakemake.output.questions,
        snakemake.output.stats,
        snakemake.params.cfg,
    )
