from kodcode.snake import log_to
from kodcode.stages.verify import verify

with log_to(snakemake.log[0]):
    verify(
        subset=snakemake.wildcards.subset,
        in_questions=snakemake.input.questions,
        attempts_file=snakemake.input.attempts,
        verdicts_file=snakemake.input.verdicts,
        out_verified=snakemake.output.verified,
        out_stats=snakemake.output.stats,
        # each trial records the file its code came from, as upstream's trials do
        params={**snakemake.params.cfg, "file_source": snakemake.input.attempts},
    )
