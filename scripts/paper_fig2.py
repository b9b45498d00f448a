from kodcode.snake import log_to
from kodcode.paper.passk import make_fig2
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    summary = make_fig2(files=dict(zip(p.subsets, snakemake.input)), ks=list(p.ks),
                        stem=snakemake.output.json.removesuffix(".json"), demo=bool(p.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
