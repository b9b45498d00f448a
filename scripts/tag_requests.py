from kodcode.snake import log_to
from kodcode.sources.errors import one_line_errors
from kodcode.stages.tagging import tag_requests

with log_to(snakemake.log[0]), one_line_errors():
    notes = tag_requests(
        subset=snakemake.wildcards.subset,
        seeds_file=snakemake.input[0],
        out_paths=list(snakemake.output.requests),
        out_stats=snakemake.output.stats,
        params=snakemake.params.cfg,
    )
# stderr goes to the rule's log; stdout of this local job reaches the Snakemake console
for note in notes:
    print(note, flush=True)
