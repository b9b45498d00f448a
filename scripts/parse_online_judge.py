from kodcode.snake import log_to
from kodcode.stages.online_judge import parse_online_judge

with log_to(snakemake.log[0]):
    parse_online_judge(
        subset=snakemake.wildcards.subset,
        responses_file=snakemake.input[0],
        out_attempts=snakemake.output.attempts,
        out_stats=snakemake.output.stats,
    )
