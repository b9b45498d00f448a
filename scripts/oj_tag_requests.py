from kodcode.snake import log_to
from kodcode.stages.online_judge import oj_tag_requests

with log_to(snakemake.log[0]):
    oj_tag_requests(
        subset=snakemake.wildcards.subset,
        verified_file=snakemake.input[0],
        out_requests=snakemake.output.requests,
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
