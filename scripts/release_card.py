from kodcode.snake import log_to
from kodcode.stages.release import release_card

with log_to(snakemake.log[0]):
    subsets = list(snakemake.params.subsets)
    release_card(
        subsets,
        dict(snakemake.params.stats),
        dict(zip(subsets, snakemake.input.pass_at_k)),
        dict(zip(subsets, snakemake.input.v1)),
        dict(zip(subsets, snakemake.input.sft)),
        snakemake.output.card,
        snakemake.output.flow,
        snakemake.output.provenance,
        dict(snakemake.params.config),
        snakemake.params.store,
    )
