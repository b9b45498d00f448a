from kodcode.snake import log_to
from kodcode.paper.dataflow import make_fig7
import logging

with log_to(snakemake.log[0]):
    summary = make_fig7(dataflow_tsv=snakemake.input[0], stem=snakemake.output.json.removesuffix(".json"),
                        demo=bool(snakemake.params.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
