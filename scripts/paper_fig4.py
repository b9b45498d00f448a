from kodcode.snake import log_to
from kodcode.paper.tsne import embedder, make_fig4, questions_file
import logging

with log_to(snakemake.log[0]):
    p = snakemake.params
    groups = [questions_file(name=s, path=f) for s, f in zip(p.subsets, snakemake.input.questions)]
    groups += [questions_file(name=n, path=f, baseline=True) for n, f in zip(p.baselines, snakemake.input.baselines)]
    n = sum(min(len(g.ids), int(p.max_per_group)) for g in groups)
    summary = make_fig4(
        groups=groups,
        embed_fn=embedder(model=p.model, batch_size=int(p.batch_size), n_texts=n),
        stem=snakemake.output.json.removesuffix(".json"),
        demo=bool(p.demo),
        seed=int(p.seed),
        max_per_group=int(p.max_per_group),
        model=p.model,
        perplexity=float(p.perplexity),
    )
    logging.getLogger("kodcode.paper").info(summary["run"])
