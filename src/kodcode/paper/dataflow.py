"""Fig. 7: the data flow per subset as a Sankey-like (alluvial) diagram, from the release's
``dataflow.tsv``: seeds -> questions -> after dedup -> unit tests pass -> released rows.

Prefill has no seeds; its first column counts the prefill prompts. The last column counts
KodCode-V1 rows: each verified question in the instruct style plus its complete rewrite,
so it can exceed the verified count.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import paper_values
from .files import PaperInputError, load_tsv, write_summary, write_tsv
from .plotting import ordered, render, subset_color, title

STAGES = ("seeds", "questions", "after_dedup", "verified", "released")
STAGE_LABELS = ("seeds\n(Prefill: prompts)", "questions", "after dedup", "unit tests\npass",
                "released rows\n(instruct + complete)")


def _int(row: dict[str, str], key: str, path: str) -> int:
    try:
        return int(row[key])
    except (KeyError, TypeError, ValueError):
        raise PaperInputError(f"{path}: column {key!r} missing or not an integer "
                              f"(subset {row.get('subset')})") from None


def flow_rows(path: str) -> list[dict[str, Any]]:
    rows = []
    for r in load_tsv(path):
        seeds = _int(r, "seeds", path)
        rows.append({
            "subset": r["subset"],
            "seeds": seeds if seeds else _int(r, "prompts", path),
            "start_kind": "seeds" if seeds else "prompts",
            "questions": _int(r, "extracted", path),
            "after_dedup": _int(r, "after_dedup", path),
            "verified": _int(r, "verified", path),
            # the rows in the release (after decontamination); older tables lack the column
            "released": (_int(r, "v1_rows", path) if r.get("v1_rows") not in (None, "")
                         else _int(r, "verified", path) + _int(r, "complete", path)),
            "no_pass_drops": _int(r, "no_pass_drops", path),
        })
    if not rows:
        raise PaperInputError(f"{path}: no subset rows")
    order = ordered([r["subset"] for r in rows])
    return sorted(rows, key=lambda r: order.index(r["subset"]))


def _ribbon(ax, x0: float, x1: float, lo0: float, hi0: float, lo1: float, hi1: float, color) -> None:
    """A band from [lo0, hi0] at x0 to [lo1, hi1] at x1 along a smooth (cosine) S-curve."""
    t = np.linspace(0, 1, 40)
    s = (1 - np.cos(np.pi * t)) / 2
    xs = x0 + (x1 - x0) * t
    ax.fill_between(xs, lo0 + (lo1 - lo0) * s, hi0 + (hi1 - hi0) * s, color=color, alpha=0.45, linewidth=0)


def _draw(rows: Sequence[dict[str, Any]], demo: bool):
    totals = [sum(r[s] for r in rows) for s in STAGES]
    scale = max(totals) or 1
    gap = 0.012 * scale

    def draw(fig) -> None:
        ax = fig.add_subplot()
        # each stage is a column of blocks (one per subset, stacked with small gaps)
        spans = []
        for stage in STAGES:
            y, col = 0.0, []
            for r in rows:
                col.append((y, y + r[stage]))
                y += r[stage] + gap
            spans.append(col)
        width = 0.08
        floor = max(col[-1][1] for col in spans)  # stage labels share one line below the blocks
        for j in range(len(STAGES)):
            for i, r in enumerate(rows):
                lo, hi = spans[j][i]
                ax.fill_between([j - width, j + width], lo, hi, color=subset_color(r["subset"]), linewidth=0)
                if j + 1 < len(STAGES):
                    lo1, hi1 = spans[j + 1][i]
                    _ribbon(ax, j + width, j + 1 - width, lo, hi, lo1, hi1, subset_color(r["subset"]))
            ax.text(j, floor + 0.03 * scale, f"{STAGE_LABELS[j]}\n{totals[j]}", ha="center", va="top", fontsize=7)
        for i, r in enumerate(rows):
            lo, hi = spans[0][i]
            ax.text(-width - 0.04, (lo + hi) / 2, f"{r['subset']} {r['seeds']}", ha="right", va="center", fontsize=6.5)
            lo, hi = spans[-1][i]
            ax.text(len(STAGES) - 1 + width + 0.04, (lo + hi) / 2, str(r["released"]), ha="left", va="center",
                    fontsize=6.5)
        ax.set_xlim(-1.0, len(STAGES) - 0.5)
        ax.invert_yaxis()
        ax.axis("off")
        ax.set_title(title("Fig. 7: data flow per subset", demo))

    return draw


def make_fig7(dataflow_tsv: str, stem: str, demo: bool) -> dict[str, Any]:
    rows = flow_rows(dataflow_tsv)
    cols = ["subset", "start_kind", *STAGES, "no_pass_drops"]
    total = {"subset": "All", "start_kind": "", **{k: sum(r[k] for r in rows) for k in (*STAGES, "no_pass_drops")}}
    write_tsv(f"{stem}.tsv", cols, [*rows, total])
    render(_draw(rows, demo), (7.5, 4.8), stem)
    summary = {
        "item": "Fig. 7", "what": "data flow: seeds -> dedup -> unit tests -> release", "demo": demo,
        "rows": [*rows, total],
        "paper": paper_values.text("dataflow"),
        "run": " -> ".join(f"{s} {total[s]}" for s in STAGES),
    }
    write_summary(f"{stem}.json", summary)
    return summary
