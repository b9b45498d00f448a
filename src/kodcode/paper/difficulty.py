"""Fig. 5: difficulty per subset in four bands, as shares of the questions that were verified.

easy: at least 2/3 of attempts pass (exactly 2/3 counts as easy, as upstream labels it, see
``kodcode.verify.difficulty``), hard: fewer than 1/3 but at least one, medium: between, fail:
no attempt passes. Failed questions are not in ``verified_*.jsonl``, so the bands come from
the verdicts (every attempt of every question, unparseable ones included as errors).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..verify import difficulty
from . import paper_values
from .files import PaperInputError, load_jsonl, load_parquet, write_summary, write_tsv
from .plotting import ordered, render, title

BANDS = ("easy", "medium", "hard", "fail")
BAND_COLORS = {"easy": "#4daf4a", "medium": "#377eb8", "hard": "#ff7f00", "fail": "#999999"}


def band(passes: int, attempts: int) -> str:
    return "fail" if passes == 0 else difficulty(passes, attempts)


def bands_from_verdicts(files: Iterable[str]) -> Counter:
    """Band counts of one subset from its ``verdicts_<shard>.jsonl`` files."""
    passes: dict[str, int] = defaultdict(int)
    attempts: dict[str, int] = defaultdict(int)
    for f in sorted(files):
        for rec in load_jsonl(f):
            if "item_id" not in rec or "verdict" not in rec:
                raise PaperInputError(f"{f}: a verdict needs 'item_id' and 'verdict'")
            attempts[rec["item_id"]] += 1
            passes[rec["item_id"]] += rec["verdict"] == "pass"
    return Counter(band(passes[q], attempts[q]) for q in sorted(attempts))


def bands_from_release(path: str) -> Counter:
    """Band counts from a KodCode-V1-layout parquet file (one per question: its instruct row).
    A release holds verified questions only, so ``fail`` is always 0 there."""
    rows = load_parquet(path, ["style", "gpt_pass_sequence"])
    seqs = [r["gpt_pass_sequence"] for r in rows if r["style"] == "instruct"]
    return Counter(band(sum(s), len(s)) for s in seqs if s)


def table(counts: Mapping[str, Counter]) -> tuple[list[str], list[dict[str, Any]]]:
    cols = ["subset", "questions"] + list(BANDS) + [f"{b}_pct" for b in BANDS]
    rows = []
    for s in list(counts):
        c = counts[s]
        n = sum(c[b] for b in BANDS)
        row: dict[str, Any] = {"subset": s, "questions": n, **{b: c[b] for b in BANDS}}
        row.update({f"{b}_pct": round(100 * c[b] / n, 2) if n else 0.0 for b in BANDS})
        rows.append(row)
    return cols, rows


def _draw(rows: Sequence[dict[str, Any]], demo: bool):
    def draw(fig) -> None:
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        left = np.zeros(len(rows))
        for b in BANDS:
            pct = np.array([r[f"{b}_pct"] for r in rows], dtype=float)
            ax.barh(y, pct, left=left, color=BAND_COLORS[b], label=b, height=0.7)
            for yi, l, p in zip(y, left, pct):
                if p >= 8:  # label only segments wide enough to hold the text
                    ax.text(l + p / 2, yi, f"{p:.0f}%", ha="center", va="center", fontsize=6.5, color="white")
            left += pct
        ax.set_yticks(y, [f"{r['subset']} (n={r['questions']})" for r in rows])
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of questions (%)")
        ax.set_title(title("Fig. 5: difficulty per subset", demo))
        ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize=7, frameon=False)

    return draw


def make_fig5(counts: Mapping[str, Counter], stem: str, demo: bool, source: str) -> dict[str, Any]:
    """Fig. 5 from band counts per subset (``bands_from_verdicts`` or ``bands_from_release``)."""
    counts = {s: counts[s] for s in ordered(list(counts))}
    cols, rows = table(counts)
    write_tsv(f"{stem}.tsv", cols, rows)
    render(_draw(rows, demo), (6.0, 0.8 + 0.28 * len(rows)), stem)
    total = Counter()
    for c in counts.values():
        total.update(c)
    n = sum(total[b] for b in BANDS)
    summary = {
        "item": "Fig. 5", "what": "difficulty bands per subset", "demo": demo, "source": source, "rows": rows,
        "total": {b: total[b] for b in BANDS},
        "paper": paper_values.text("difficulty_bands"),
        "run": (", ".join(f"{b} {100 * total[b] / n:.1f}%" for b in BANDS) + f" of {n} questions")
               if n else "no questions",
    }
    write_summary(f"{stem}.json", summary)
    return summary
