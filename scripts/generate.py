from kodcode.snake import log_to
from kodcode.stages.generate import generate

with log_to(snakemake.log[0]):
    generate(
        snakemake.wildcards.stage,
        snakemake.wildcards.subset,
        snakemake.input[0],
        snakemake.output.responses,
        snakemake.output.stats,
        snakemake.config["llm"],
        snakemake.config["store"],
    )
