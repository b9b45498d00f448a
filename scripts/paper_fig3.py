from kodcode.snake import log_to
from kodcode.paper.lengths import make_fig3
from kodcode.paper.tokens import bundled_token_counter
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig3(dict(zip(p.subsets, snakemake.input)), bundled_token_counter(), stem, bool(p.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
