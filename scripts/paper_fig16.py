from kodcode.snake import log_to
from kodcode.paper.subsets import make_fig16
import logging

with log_to(snakemake.log[0]):
    subsets = list(snakemake.params.subsets)
    summary = make_fig16(
        files=dict(zip(subsets, snakemake.input.v1)),
        sft_files=dict(zip(subsets, snakemake.input.sft)),
        stem=snakemake.output.json.removesuffix(".json"),
        demo=bool(snakemake.params.demo),
    )
    logging.getLogger("kodcode.paper").info(summary["run"])
