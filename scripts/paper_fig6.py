from kodcode.snake import log_to
from kodcode.paper.contamination import make_fig6
import logging

with log_to(snakemake.log[0]):
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig6(dict(snakemake.params.reports), float(snakemake.params.threshold), stem,
                        bool(snakemake.params.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
