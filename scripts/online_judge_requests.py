from kodcode.snake import log_to
from kodcode.stages.online_judge import online_judge_requests

with log_to(snakemake.log[0]):
    online_judge_requests(
        subset=snakemake.wildcards.subset,
        verified_file=snakemake.input.verified,
        tag_responses=snakemake.input.tags,
        out_requests=snakemake.output.requests,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
