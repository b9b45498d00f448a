from kodcode.snake import log_to
from kodcode.paper.subsets import make_fig16
import logging

with log_to(snakemake.log[0]):
    subsets = list(snakemake.params.subsets)
    v1, sft = dict(zip(subsets, snakemake.input.v1)), dict(zip(subsets, snakemake.input.sft))
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig16(v1, stem, bool(snakemake.params.demo), sft)
    logging.getLogger("kodcode.paper").info(summary["run"])
