# Both decontamination rules: benchmark_index (one benchmark's embeddings) and decontaminate
# (one subset's report).
from kodcode.decontam.stage import benchmark_index, decontaminate
from kodcode.snake import log_to
from kodcode.sources.build import one_line_errors

with log_to(snakemake.log[0]), one_line_errors():
    if snakemake.rule == "benchmark_index":
        benchmark_index(
            spec=snakemake.params.spec,
            manifest=snakemake.params.manifest,
            out_items=snakemake.output.problems,
            out_vectors=snakemake.output.vectors,
            out_stats=snakemake.output.stats,
            params=dict(snakemake.params.embed),
        )
    else:
        decontaminate(
            subset=snakemake.wildcards.subset,
            triplet_files=list(snakemake.input.triplets),
            indexes=dict(snakemake.params.indexes),
            out_report=snakemake.output.report,
            out_stats=snakemake.output.stats,
            params=dict(snakemake.params.cfg),
        )
