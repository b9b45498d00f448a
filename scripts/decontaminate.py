# Both decontamination rules: benchmark_index (one benchmark's embeddings) and decontaminate
# (one subset's report).
from kodcode.decontam.stage import benchmark_index, decontaminate
from kodcode.snake import log_to
from kodcode.sources.build import one_line_errors

with log_to(snakemake.log[0]), one_line_errors():
    if snakemake.rule == "benchmark_index":
        benchmark_index(snakemake.params.spec, snakemake.params.manifest,
                        snakemake.output.problems, snakemake.output.vectors, snakemake.output.stats,
                        dict(snakemake.params.embed))
    else:
        decontaminate(snakemake.wildcards.subset, list(snakemake.input.triplets), dict(snakemake.params.indexes),
                      snakemake.output.report, snakemake.output.stats, dict(snakemake.params.cfg))
