"""Fig. 16 / the subset table: rows per subset and its share of the release, from a
KodCode-V1-layout parquet folder (rows are counted from the parquet metadata, so a full
published release is cheap to read)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import paper_values
from .files import load_parquet, parquet_rows, write_summary, write_tsv
from .plotting import ordered, render, subset_color, title


def table(files: Mapping[str, str],
          sft_files: Mapping[str, str] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    names = ordered(list(files))
    counts = {s: parquet_rows(files[s]) for s in names}
    total = sum(counts.values())
    rows = []
    for s in names:
        styles = [r["style"] for r in load_parquet(files[s], ["style"])]
        rows.append({"subset": s, "rows": counts[s], "instruct": styles.count("instruct"),
                     "complete": styles.count("complete"),
                     "share_pct": round(100 * counts[s] / total, 2) if total else 0.0,
                     "sft_rows": parquet_rows(sft_files[s]) if sft_files and s in sft_files else None,
                     "paper_rows": paper_values.NOT_RECORDED})
    rows.append({"subset": "All", "rows": total, "instruct": sum(r["instruct"] for r in rows),
                 "complete": sum(r["complete"] for r in rows), "share_pct": 100.0 if total else 0.0,
                 "sft_rows": sum(r["sft_rows"] or 0 for r in rows) if sft_files else None,
                 "paper_rows": paper_values.value("release_questions").value})
    return ["subset", "rows", "instruct", "complete", "share_pct", "sft_rows", "paper_rows"], rows


def _draw(rows, demo: bool):
    def draw(fig) -> None:
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        ax.barh(y, [r["rows"] for r in rows], color=[subset_color(r["subset"]) for r in rows], height=0.7)
        for yi, r in zip(y, rows):
            ax.text(r["rows"], yi, f" {r['rows']} ({r['share_pct']:.1f}%)", va="center", fontsize=6.5)
        ax.set_yticks(y, [r["subset"] for r in rows])
        ax.set_xlabel("KodCode-V1 rows")
        ax.set_xlim(0, 1.25 * max((r["rows"] for r in rows), default=1))
        ax.set_title(title("Fig. 16: rows per subset", demo))

    return draw


def make_fig16(files: Mapping[str, str], stem: str, demo: bool,
               sft_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    cols, rows = table(files, sft_files)
    write_tsv(f"{stem}.tsv", cols, rows)
    render(_draw(rows[:-1], demo), (6.0, 0.8 + 0.28 * (len(rows) - 1)), stem)
    total = rows[-1]
    summary = {
        "item": "Fig. 16", "what": "rows per subset and share of the release", "demo": demo, "rows": rows,
        "paper": paper_values.text("release_questions") + "; per subset " + paper_values.NOT_RECORDED,
        "run": f"{total['rows']} rows ({total['instruct']} instruct + {total['complete']} complete) "
               f"in {len(rows) - 1} subsets",
    }
    write_summary(f"{stem}.json", summary)
    return summary
