from kodcode.snake import log_to
from kodcode.stages.solutions import verify

with log_to(snakemake.log[0]):
    verify(
        snakemake.wildcards.subset,
        snakemake.input.questions,
        snakemake.input.attempts,
        snakemake.input.verdicts,
        snakemake.output.verified,
        snakemake.output.stats,
        {**snakemake.params.cfg, "file_source": snakemake.input.attempts},
    )
