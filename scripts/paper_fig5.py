from kodcode.snake import log_to
from kodcode.paper.difficulty import bands_from_verdicts, make_fig5
import logging

with log_to(snakemake.log[0]):
    counts = {s: bands_from_verdicts(files) for s, files in dict(snakemake.params.verdicts).items()}
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig5(counts, stem, bool(snakemake.params.demo), "verdicts")
    logging.getLogger("kodcode.paper").info(summary["run"])
