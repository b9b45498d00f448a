from kodcode.snake import log_to
from kodcode.sources.build import fetch_unit, one_line_errors

with log_to(snakemake.log[0]), one_line_errors():
    fetch_unit(unit_dict=snakemake.params.unit, manifest=snakemake.output.manifest)
