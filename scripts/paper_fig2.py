from kodcode.snake import log_to
from kodcode.paper.passk import make_fig2
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig2(dict(zip(p.subsets, snakemake.input)), list(p.ks), stem, bool(p.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
