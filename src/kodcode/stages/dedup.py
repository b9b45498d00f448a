"""Semantic dedup of one subset's extracted questions (rules/dedup.smk); the similarity search
itself is kodcode.dedup."""

from __future__ import annotations

from typing import Any

from ..jsonl import read_jsonl, write_jsonl
from .common import write_stats


def dedup(subset: str, in_questions: str, out_questions: str, out_stats: str, params: dict[str, Any]) -> None:
    """Keep one question of each group at or above the similarity threshold, recording each kept
    question's nearest similarity and each dropped one's kept twin. ``params``: the ``dedup``
    section as the config check filled it in (model, threshold, batch_size, device)."""
    from .. import dedup as search  # torch and the embedding model load only when there is work

    rows = sorted(read_jsonl(in_questions), key=lambda r: r["question_id"])
    if len(rows) > 1:
        model = search.load_embedder(params["model"], device=params["device"], n_texts=len(rows))
        vecs = search.embed(model, [r["question"] for r in rows], batch_size=int(params["batch_size"]),
                            desc="embedding questions")
        result = search.near_duplicates(vecs, float(params["threshold"]))
    else:  # nothing to compare: no model to load
        result = search.DedupResult(keep=[True] * len(rows), nearest=[-1.0] * len(rows),
                                    duplicate_of=[None] * len(rows))
    kept, pairs = [], []
    for i, r in enumerate(rows):
        if result.keep[i]:
            kept.append({**r, "dedup_nearest_similarity": result.nearest[i]})
        else:
            pairs.append({"dropped": r["question_id"], "kept": rows[result.duplicate_of[i]]["question_id"]})
    write_jsonl(out_questions, kept)
    write_stats(out_stats, "dedup", subset=subset, input=len(rows), kept=len(kept),
                dropped={"near duplicate": len(pairs)} if pairs else {}, pairs=pairs,
                threshold=float(params["threshold"]), model=params["model"])
