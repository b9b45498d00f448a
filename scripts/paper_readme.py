from kodcode.snake import log_to
from kodcode.paper.readme import write_readme

with log_to(snakemake.log[0]):
    p = snakemake.params
    write_readme(summary_files=dict(zip(p.rules, snakemake.input)), out=snakemake.output[0], demo=bool(p.demo),
                 run_name=p.run_name)
