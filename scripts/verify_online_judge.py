from kodcode.snake import log_to
from kodcode.stages.online_judge import verify_online_judge

with log_to(snakemake.log[0]):
    verify_online_judge(
        subset=snakemake.wildcards.subset,
        verified_file=snakemake.input.verified,
        attempts_file=snakemake.input.attempts,
        verdicts_file=snakemake.input.verdicts,
        out_rows=snakemake.output.rows,
        out_stats=snakemake.output.stats,
        # each trial records the file its code came from, as upstream's trials do
        params={**snakemake.params.cfg, "file_source": snakemake.input.attempts},
    )
