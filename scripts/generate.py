from kodcode.snake import log_to
from kodcode.stages.generate import generate

with log_to(snakemake.log[0]):
    generate(
        stage=snakemake.wildcards.stage,
        subset=snakemake.wildcards.subset,
        requests_file=snakemake.input.requests,
        out_responses=snakemake.output.responses,
        out_stats=snakemake.output.stats,
        llm_cfg=snakemake.config["llm"],
        store_root=snakemake.config["store"],
    )
