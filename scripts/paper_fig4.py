from kodcode.snake import log_to
from kodcode.paper.tsne import embedder, make_fig4, questions_file
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    groups = [questions_file(s, f) for s, f in zip(p.subsets, snakemake.input.questions)]
    groups += [questions_file(n, f, baseline=True) for n, f in zip(p.baselines, snakemake.input.baselines)]
    n = sum(min(len(g.ids), int(p.max_per_group)) for g in groups)
    stem = snakemake.output.json.removesuffix(".json")
    summary = make_fig4(groups, embedder(p.model, int(p.batch_size), n), stem, bool(p.demo), int(p.seed),
                        int(p.max_per_group), p.model, float(p.perplexity))
    logging.getLogger("kodcode.paper").info(summary["run"])
