from kodcode.snake import log_to
from kodcode.stages.solutions import pass_at_k

with log_to(snakemake.log[0]):
    pass_at_k(snakemake.wildcards.subset, list(snakemake.input), snakemake.output[0], snakemake.params.cfg)
