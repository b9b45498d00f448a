"""Fig. 4: t-SNE of question embeddings, coloured by subset, with optional baseline sets.

Embeddings come from the dedup model (``kodcode.dedup.load_embedder``/``embed``: the bundled
all-MiniLM-L6-v2 by default), so the map shows the space dedup works in. Each group is
sampled to at most ``max_per_group`` questions (the same ones every run: lowest sha256 of
the id), and t-SNE runs with a fixed ``random_state``; up to ``EXACT_MAX`` points it uses the
exact method, whose result does not depend on thread scheduling.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .files import PaperInputError, load_jsonl, load_parquet, write_summary, write_tsv
from .plotting import render, subset_color, title

EXACT_MAX = 2000
BASELINE_MARKERS = ("x", "^", "+", "s", "v", "D")


@dataclass(frozen=True)
class Group:
    name: str
    ids: list[str]
    questions: list[str]
    baseline: bool = False


def questions_file(name: str, path: str, baseline: bool = False) -> Group:
    """A group from a ``.jsonl`` (``question`` per line; ``question_id`` or ``id`` optional) or a
    ``.parquet`` file with a ``question`` column."""
    if str(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        rows = load_parquet(path, [c for c in ("question_id", "question") if c in names or c == "question"])
    else:
        rows = load_jsonl(path)
    ids, texts = [], []
    for i, r in enumerate(rows):
        if not isinstance(r.get("question"), str):
            raise PaperInputError(f"{path}: row {i + 1} has no 'question' text")
        ids.append(str(r.get("question_id", r.get("id", i))))
        texts.append(r["question"])
    return Group(name, ids, texts, baseline)


def sample(group: Group, limit: int) -> Group:
    """At most ``limit`` questions, chosen by id hash so the choice is stable and unbiased."""
    order = sorted(range(len(group.ids)), key=lambda i: (hashlib.sha256(group.ids[i].encode()).hexdigest(), i))
    keep = sorted(order[:limit], key=lambda i: group.ids[i])
    return Group(group.name, [group.ids[i] for i in keep], [group.questions[i] for i in keep], group.baseline)


def project(vectors: np.ndarray, seed: int, perplexity: float = 30.0) -> np.ndarray:
    """2-d t-SNE of ``vectors`` (cosine distances); perplexity is capped below the point count."""
    from sklearn.manifold import TSNE

    n = len(vectors)
    if n < 3:
        return np.zeros((n, 2))
    perp = min(float(perplexity), max(1.0, (n - 1) / 3))
    tsne = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed, metric="cosine",
                method="exact" if n <= EXACT_MAX else "barnes_hut")
    return tsne.fit_transform(np.asarray(vectors, dtype=np.float64))


def _draw(groups: Sequence[Group], xy: np.ndarray, demo: bool, model: str):
    def draw(fig) -> None:
        ax = fig.add_subplot()
        start, nb = 0, 0
        for g in groups:
            pts = xy[start:start + len(g.ids)]
            start += len(g.ids)
            if g.baseline:  # greys with one marker each: the subsets keep the colours
                marker = BASELINE_MARKERS[nb % len(BASELINE_MARKERS)]
                shade = str(0.2 + 0.1 * (nb % 4))
                nb += 1
                hollow = {"facecolors": "none", "edgecolors": shade} if marker in "^sDv" else {"color": shade}
                ax.scatter(pts[:, 0], pts[:, 1], s=12, marker=marker, linewidths=0.8, **hollow,
                           label=f"{g.name} (baseline, n={len(g.ids)})")
            else:
                ax.scatter(pts[:, 0], pts[:, 1], s=12, color=subset_color(g.name), label=f"{g.name} (n={len(g.ids)})")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title("Fig. 4: t-SNE of question embeddings", demo) + f"\n{model}", fontsize=8)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)

    return draw


def make_fig4(groups: Sequence[Group], embed_fn, stem: str, demo: bool, seed: int, max_per_group: int,
              model: str, perplexity: float = 30.0) -> dict[str, Any]:
    """Fig. 4 from question groups (subsets first, then baselines); ``embed_fn(texts)`` gives
    L2-normalised vectors. Writes ``stem``.png/.pdf/.tsv/.json."""
    groups = [sample(g, max_per_group) for g in groups]
    groups = [g for g in groups if g.ids]
    texts = [q for g in groups for q in g.questions]
    if not texts:
        raise PaperInputError("fig4: no questions to embed (every subset and baseline is empty)")
    xy = project(embed_fn(texts), seed, perplexity)
    rows = []
    start = 0
    for g in groups:
        for i, qid in enumerate(g.ids):
            x, y = xy[start + i]
            rows.append({"group": g.name, "kind": "baseline" if g.baseline else "subset", "question_id": qid,
                         "x": round(float(x), 4), "y": round(float(y), 4)})
        start += len(g.ids)
    write_tsv(f"{stem}.tsv", ["group", "kind", "question_id", "x", "y"], rows)
    render(_draw(groups, xy, demo, model), (6.5, 4.2), stem)
    counts = {g.name: len(g.ids) for g in groups}
    summary = {
        "item": "Fig. 4", "what": "t-SNE of question embeddings", "demo": demo, "model": model, "seed": seed,
        "max_per_group": max_per_group, "points": counts,
        "baselines": sorted(g.name for g in groups if g.baseline),
        "paper": "a qualitative map; no number to compare",
        "run": f"{len(rows)} questions from {sum(not g.baseline for g in groups)} subsets"
               f" and {sum(g.baseline for g in groups)} baselines",
    }
    write_summary(f"{stem}.json", summary)
    return summary


def embedder(model: str, batch_size: int, n_texts: int):
    """``embed_fn`` for ``make_fig4`` from the dedup model name (e.g. ``bundled:all-MiniLM-L6-v2``)."""
    from ..dedup import embed, load_embedder

    enc = load_embedder(model, n_texts=n_texts)
    return lambda texts: embed(enc, texts, batch_size, desc="embedding questions")
