from kodcode.snake import log_to
from kodcode.stages.release import release_card

with log_to(snakemake.log[0]):
    subsets = list(snakemake.params.subsets)
    release_card(
        subsets=subsets,
        stats_files=dict(snakemake.params.stats),
        pass_at_k_files=dict(zip(subsets, snakemake.input.pass_at_k)),
        v1_files=dict(zip(subsets, snakemake.input.v1)),
        sft_files=dict(zip(subsets, snakemake.input.sft)),
        out_card=snakemake.output.card,
        out_flow=snakemake.output.flow,
        out_provenance=snakemake.output.provenance,
        config=dict(snakemake.params.config),
        store_root=snakemake.params.store,
    )
