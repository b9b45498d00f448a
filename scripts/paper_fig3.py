from kodcode.snake import log_to
from kodcode.paper.lengths import make_fig3
from kodcode.paper.tokens import bundled_token_counter
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    summary = make_fig3(files=dict(zip(p.subsets, snakemake.input)), counter=bundled_token_counter(),
                        stem=snakemake.output.json.removesuffix(".json"), demo=bool(p.demo))
    logging.getLogger("kodcode.paper").info(summary["run"])
