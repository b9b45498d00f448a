"""Fig. 6: contamination against the benchmarks, from the decontamination reports.

Left: a subset x benchmark matrix of contaminated questions (a question counts once, under
the benchmark its best-matching style reached the threshold against). Right: for each subset,
the histogram of every question's highest similarity to any benchmark item (the larger of its
instruct and complete forms), with the threshold marked. Reports come from
``results/<Subset>/decontam/report.jsonl`` (rules/decontam.smk): one row per released row with
its nearest benchmark item and cosine similarity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import paper_values
from .files import PaperInputError, load_jsonl, write_summary, write_tsv
from .plotting import ordered, render, subset_color, title

BINS = np.linspace(0.0, 1.0, 21)  # 0.05 wide


def question_of(row_id: str) -> str:
    """Both styles of a question share its id without the _I / _C suffix."""
    return row_id[:-2] if row_id.endswith(("_I", "_C")) else row_id


def per_question(rows: Iterable[dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    """Each question's best row: highest similarity, and whether the question is contaminated."""
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        if "question_id" not in r or "similarity" not in r or "benchmark" not in r:
            raise PaperInputError(f"{where}: a report row needs question_id, benchmark and similarity")
        q = question_of(r["question_id"])
        cur = best.get(q)
        if cur is None or r["similarity"] > cur["similarity"]:
            best[q] = {"similarity": float(r["similarity"]), "benchmark": r["benchmark"],
                       "contaminated": bool(r.get("contaminated")) or bool(cur and cur["contaminated"])}
        elif r.get("contaminated"):
            cur["contaminated"] = True
    return dict(sorted(best.items()))


def tables(reports: Mapping[str, str]) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    """Per subset: question -> best row; and the benchmarks seen, sorted."""
    questions = {s: per_question(load_jsonl(p), p) for s, p in reports.items()}
    benchmarks = sorted({q["benchmark"] for qs in questions.values() for q in qs.values()})
    return questions, benchmarks


def _draw(questions: Mapping[str, Mapping[str, Any]], subsets: Sequence[str], benchmarks: Sequence[str],
          matrix: np.ndarray, threshold: float, demo: bool):
    def draw(fig) -> None:
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [max(1, len(benchmarks)) + 1, 4]})
        left.imshow(matrix, cmap="Reds", aspect="auto", vmin=0, vmax=max(1, int(matrix.max())))
        for (i, j), v in np.ndenumerate(matrix):
            left.text(j, i, str(int(v)), ha="center", va="center", fontsize=7,
                      color="white" if v and v >= matrix.max() / 2 else "black")
        left.set_xticks(range(len(benchmarks)), benchmarks, rotation=30, ha="right", fontsize=7)
        left.set_yticks(range(len(subsets)), subsets, fontsize=7)
        left.set_title("contaminated questions", fontsize=8)
        for s in subsets:
            sims = [q["similarity"] for q in questions[s].values()]
            right.hist(sims, bins=BINS, histtype="step", color=subset_color(s), label=s, linewidth=1.2)
        right.axvline(threshold, color="black", linestyle="--", linewidth=0.8)
        right.text(threshold, right.get_ylim()[1] * 0.95, f" {threshold}", fontsize=7, va="top")
        right.set_xlabel("highest similarity to a benchmark item")
        right.set_ylabel("questions")
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
        right.legend(fontsize=6, ncols=2, frameon=False)
        fig.suptitle(title("Fig. 6: benchmark contamination", demo), fontsize=10)

    return draw


def make_fig6(reports: Mapping[str, str], threshold: float, stem: str, demo: bool) -> dict[str, Any]:
    """Fig. 6 from each subset's decontamination report (subset -> report.jsonl)."""
    subsets = ordered(list(reports))
    questions, benchmarks = tables({s: reports[s] for s in subsets})
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in subsets:
        for q in questions[s].values():
            if q["contaminated"]:
                counts[s][q["benchmark"]] += 1
    matrix = np.array([[counts[s][b] for b in benchmarks] for s in subsets], dtype=int).reshape(
        len(subsets), len(benchmarks))
    rows = [{"subset": s, "questions": len(questions[s]),
             "max_similarity": round(max((q["similarity"] for q in questions[s].values()), default=0.0), 4),
             **{b: counts[s][b] for b in benchmarks}, "contaminated": sum(counts[s].values())} for s in subsets]
    write_tsv(f"{stem}.tsv", ["subset", "questions", "max_similarity", *benchmarks, "contaminated"], rows)
    render(_draw(questions, subsets, benchmarks, matrix, threshold, demo), (8.0, 1.2 + 0.3 * len(subsets)), stem)
    total = sum(r["contaminated"] for r in rows)
    summary = {
        "item": "Fig. 6", "what": "contaminated questions per subset and benchmark; highest similarity per question",
        "demo": demo, "threshold": threshold, "benchmarks": benchmarks, "rows": rows,
        "paper": paper_values.text("contamination"),
        "run": f"{total} of {sum(r['questions'] for r in rows)} questions at or above {threshold}",
    }
    write_summary(f"{stem}.json", summary)
    return summary
