from kodcode.snake import log_to
from kodcode.sources.build import build_seeds

with log_to(snakemake.log[0]):
    build_seeds(snakemake.params.plan, snakemake.output.seeds, snakemake.output.stats)
