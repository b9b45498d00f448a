from kodcode.snake import log_to
from kodcode.paper.difficulty import bands_from_verdicts, make_fig5
import logging

with log_to(snakemake.log[0]):
    counts = {s: bands_from_verdicts(files=files) for s, files in dict(snakemake.params.verdicts).items()}
    summary = make_fig5(counts=counts, stem=snakemake.output.json.removesuffix(".json"),
                        demo=bool(snakemake.params.demo), source="verdicts")
    logging.getLogger("kodcode.paper").info(summary["run"])
