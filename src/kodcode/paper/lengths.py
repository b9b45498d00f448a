"""Fig. 3: question and solution lengths in tokens, and unit tests per question, from a
KodCode-V1-layout parquet folder (a run's release or a published one).

Tests per question: ``def test_`` functions in the chosen tests (the ``test`` column), counted
once per question (its instruct row; the complete row shares the tests).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import paper_values
from .files import load_parquet, write_summary, write_tsv
from .plotting import ordered, render, title
from .tokens import TokenCounter

_TEST_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+test_", re.MULTILINE)


def count_tests(code: str | None) -> int:
    return len(_TEST_DEF.findall(code or ""))


@dataclass(frozen=True)
class SubsetLengths:
    subset: str
    question_tokens: list[int]  # one per release row (instruct and complete)
    solution_tokens: list[int]
    tests: list[int]  # one per question


def subset_lengths(subset: str, path: str, counter: TokenCounter) -> SubsetLengths:
    rows = load_parquet(path, ["question_id", "style", "question", "solution", "test"])
    rows.sort(key=lambda r: r["question_id"])
    tests = [count_tests(r["test"]) for r in rows if r["style"] == "instruct"]
    return SubsetLengths(subset, counter.count([r["question"] or "" for r in rows]),
                         counter.count([r["solution"] or "" for r in rows]), tests)


def _stats(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "max": None}
    return {"n": len(values), "mean": round(statistics.fmean(values), 2),
            "median": statistics.median(values), "max": max(values)}


def table(data: Sequence[SubsetLengths]) -> tuple[list[str], list[dict[str, Any]]]:
    cols = ["subset", "rows", "questions", "question_tokens_mean", "question_tokens_median",
            "solution_tokens_mean", "solution_tokens_median", "tests_mean", "tests_median"]
    rows = []
    everything = SubsetLengths("All", [x for d in data for x in d.question_tokens],
                               [x for d in data for x in d.solution_tokens], [x for d in data for x in d.tests])
    for d in [*data, everything]:
        q, s, t = _stats(d.question_tokens), _stats(d.solution_tokens), _stats(d.tests)
        rows.append({"subset": d.subset, "rows": q["n"], "questions": t["n"],
                     "question_tokens_mean": q["mean"], "question_tokens_median": q["median"],
                     "solution_tokens_mean": s["mean"], "solution_tokens_median": s["median"],
                     "tests_mean": t["mean"], "tests_median": t["median"]})
    return cols, rows


def histograms(data: Sequence[SubsetLengths], bins: int = 30) -> dict[str, dict[str, list]]:
    """Pooled histograms (edges and counts) of the three quantities, as plotted."""
    out = {}
    for key in ("question_tokens", "solution_tokens", "tests"):
        vals = np.array([x for d in data for x in getattr(d, key)], dtype=float)
        top = float(vals.max()) if vals.size else 1.0
        if key == "tests":
            edges = np.arange(-0.5, top + 1.5, 1.0)  # one bar per count
        else:
            edges = np.linspace(0.0, max(top, 1.0), bins + 1)
        counts, edges = np.histogram(vals, bins=edges)
        out[key] = {"edges": [round(float(e), 3) for e in edges], "counts": [int(c) for c in counts]}
    return out


def _draw(hists: Mapping[str, Mapping[str, list]], means: Mapping[str, float | None], tokenizer: str, demo: bool):
    labels = {"question_tokens": "question length (tokens)", "solution_tokens": "solution length (tokens)",
              "tests": "unit tests per question"}

    def draw(fig) -> None:
        axes = fig.subplots(1, 3)
        for ax, key in zip(axes, labels):
            edges, counts = np.array(hists[key]["edges"]), np.array(hists[key]["counts"])
            ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#377eb8", edgecolor="white",
                   linewidth=0.4)
            if means[key] is not None:
                ax.axvline(means[key], color="#e41a1c", linewidth=1, label=f"mean {means[key]:.2f}")
            if key == "tests":
                paper = paper_values.value("tests_per_question").value
                ax.axvline(paper, color="0.2", linestyle="--", linewidth=1, label=f"paper {paper}")
            ax.set_xlabel(labels[key])
            ax.set_ylabel("count")
            ax.legend(fontsize=6.5, frameon=False)
        fig.suptitle(title("Fig. 3: lengths and unit tests", demo) + f"\ntokens: {tokenizer}", fontsize=8)

    return draw


def make_fig3(files: Mapping[str, str], counter: TokenCounter, stem: str, demo: bool) -> dict[str, Any]:
    """Fig. 3 from ``{subset: KodCode-V1 parquet}``: writes ``stem``.png/.pdf/.tsv/.json."""
    data = [subset_lengths(s, str(files[s]), counter) for s in ordered(list(files))]
    cols, rows = table(data)
    write_tsv(f"{stem}.tsv", cols, rows)
    hists = histograms(data)
    overall = rows[-1]
    means = {"question_tokens": overall["question_tokens_mean"], "solution_tokens": overall["solution_tokens_mean"],
             "tests": overall["tests_mean"]}
    render(_draw(hists, means, counter.name, demo), (8.0, 2.9), stem)
    summary = {
        "item": "Fig. 3", "what": "question/solution tokens and unit tests per question", "demo": demo,
        "tokenizer": counter.name, "rows": rows, "histograms": hists,
        "paper": paper_values.text("tests_per_question"),
        "run": f"{overall['tests_mean']} tests per question ({overall['questions']} questions); "
               f"mean tokens: question {overall['question_tokens_mean']}, solution {overall['solution_tokens_mean']}",
    }
    write_summary(f"{stem}.json", summary)
    return summary
