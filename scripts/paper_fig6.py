from kodcode.snake import log_to
from kodcode.paper.contamination import make_fig6
import logging

with log_to(snakemake.log[0]):
    summary = make_fig6(reports=dict(snakemake.params.reports), threshold=float(snakemake.params.threshold),
                        stem=snakemake.output.json.removesuffix(".json"), demo=bool(snakemake.params.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
