"""Nearest benchmark item per question: FAISS inner product on L2-normalised embeddings
(= cosine similarity), as in semantic dedup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Nearest:
    index: int  # row of the benchmark matrix (-1: no benchmark item at all)
    score: float  # cosine similarity (-1.0 when index is -1); reports round it, the threshold does not


def nearest(questions: np.ndarray, bench: np.ndarray) -> list[Nearest]:
    """For every row of ``questions`` the most similar row of ``bench`` (both normalised float32).

    Exact search (IndexFlatIP): a benchmark has at most a few thousand prompts. Among equal
    scores the lowest benchmark row wins, so the result does not depend on FAISS's order."""
    import faiss

    n = len(questions)
    if n == 0:
        return []
    if len(bench) == 0:
        return [Nearest(-1, -1.0)] * n
    index = faiss.IndexFlatIP(bench.shape[1])
    index.add(np.ascontiguousarray(bench, dtype="float32"))
    k = min(len(bench), 4)  # a few candidates, to break ties by row
    sims, idx = index.search(np.ascontiguousarray(questions, dtype="float32"), k)
    out = []
    for s_row, i_row in zip(sims, idx):
        best = max(((float(s), -int(i)) for s, i in zip(s_row, i_row) if i >= 0), default=(-1.0, 1))
        out.append(Nearest(-best[1], best[0]))
    return out


def contaminated(score: float, threshold: float) -> bool:
    """At or above the threshold, as dedup's duplicates."""
    return score >= threshold


def check_dims(questions: np.ndarray, bench: np.ndarray, where: str) -> None:
    from .errors import DecontamError

    if len(questions) and len(bench) and questions.shape[1] != bench.shape[1]:
        raise DecontamError(f"{where}: benchmark vectors have {bench.shape[1]} dimensions, the questions' "
                            f"{questions.shape[1]}: the index was built with another model; delete it to rebuild")


def stack(parts: Sequence[np.ndarray], dim: int) -> np.ndarray:
    """Benchmark matrices one under the other (an empty (0, dim) matrix when there are none)."""
    kept = [p for p in parts if len(p)]
    return np.concatenate(kept).astype("float32") if kept else np.zeros((0, dim), dtype="float32")
