from kodcode.snake import log_to
from kodcode.stages.tagging import select_tagged

with log_to(snakemake.log[0]):
    select_tagged(
        subset=snakemake.wildcards.subset,
        seeds_file=snakemake.input.seeds,
        response_paths=list(snakemake.input.responses),
        out_questions=snakemake.output.questions,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
