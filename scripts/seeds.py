from kodcode.snake import log_to
from kodcode.sources.build import build_seeds

with log_to(snakemake.log[0]):
    notes = build_seeds(
        plan=snakemake.params.plan,
        out_seeds=snakemake.output.seeds,
        out_stats=snakemake.output.stats,
        max_prompt_chars=snakemake.params.max_prompt_chars,
    )
# stderr goes to the rule's log; stdout of this local job reaches the Snakemake console
for note in notes:
    print(note, flush=True)
