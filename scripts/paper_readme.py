from kodcode.snake import log_to
from kodcode.paper.readme import write_readme

with log_to(snakemake.log[0]):
    p = snakemake.params
    write_readme(dict(zip(p.rules, snakemake.input)), snakemake.output[0], bool(p.demo), p.run_name)
