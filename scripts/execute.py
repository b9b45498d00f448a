from kodcode.snake import log_to
from kodcode.stages.solutions import execute

with log_to(snakemake.log[0]):
    execute(
        snakemake.wildcards.subset,
        snakemake.wildcards.exec_stage,
        snakemake.input[0],
        snakemake.output.verdicts,
        snakemake.output.stats,
        {**snakemake.params.cfg, "workers": snakemake.threads},
        snakemake.config["store"],
    )
