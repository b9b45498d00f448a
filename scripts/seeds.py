from kodcode.snake import log_to
from kodcode.sources.build import build_seeds

with log_to(snakemake.log[0]):
    notes = build_seeds(
        snakemake.params.plan,
        snakemake.output.seeds,
        snakemake.output.stats,
        snakemake.params.max_prompt_chars,
    )
# stderr goes to the rule's log; stdout of this local job reaches the Snakemake console
for note in notes:
    print(note, flush=True)
