from kodcode.snake import log_to
from kodcode.stages.questions import prepare_seeds

with log_to(snakemake.log[0]):
    prepare_seeds(snakemake.wildcards.subset, snakemake.input[0], snakemake.output.seeds, snakemake.output.stats)
