from kodcode.snake import log_to
from kodcode.stages.online_judge import STAGE
from kodcode.stages.verify import execute

with log_to(snakemake.log[0]):
    execute(
        subset=snakemake.wildcards.subset,
        stage=STAGE,
        attempts_file=snakemake.input.attempts,
        out_verdicts=snakemake.output.verdicts,
        out_stats=snakemake.output.stats,
        # executor.workers is the rule's threads (Snakemake may give fewer than asked)
        params={**snakemake.params.cfg, "workers": snakemake.threads},
        store_root=snakemake.config["store"],
    )
