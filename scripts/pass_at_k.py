from kodcode.snake import log_to
from kodcode.stages.verify import pass_at_k

with log_to(snakemake.log[0]):
    pass_at_k(
        subset=snakemake.wildcards.subset,
        verdict_files=list(snakemake.input),
        out_json=snakemake.output.pass_at_k,
        params=snakemake.params.cfg,
    )
