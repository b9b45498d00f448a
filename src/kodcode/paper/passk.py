"""Fig. 2: pass@k per subset, from each subset's ``solutions/pass_at_k.json``.

pass@k needs at least k attempts per question; with fewer (the demo makes 3) the value is
reported as not computable instead of being extrapolated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import paper_values
from .files import PaperInputError, load_json, write_summary, write_tsv
from .plotting import ordered, render, title


@dataclass(frozen=True)
class SubsetPassAtK:
    subset: str
    questions: int
    attempts: int
    values: dict[int, float | None]  # None: k > attempts, not computable


def read_pass_at_k(path: str, subset: str, ks: Sequence[int]) -> SubsetPassAtK:
    data = load_json(path)
    try:
        attempts, questions = int(data["attempts"]), int(data["questions"])
    except (KeyError, TypeError, ValueError):
        raise PaperInputError(f"{path}: needs integer 'attempts' and 'questions'") from None
    values: dict[int, float | None] = {}
    for k in ks:
        v = data.get(f"pass@{k}")
        if k > attempts or questions == 0:
            values[k] = None
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            raise PaperInputError(f"{path}: no pass@{k} although {attempts} attempts were made "
                                  f"(add {k} to verify.pass_at_k)")
        else:
            values[k] = float(v)
    return SubsetPassAtK(subset, questions, attempts, values)


def not_computable(rows: Sequence[SubsetPassAtK]) -> list[str]:
    """One note per k that some subset cannot give, naming the attempts it has."""
    notes = []
    ks = sorted({k for r in rows for k, v in r.values.items() if v is None})
    for k in ks:
        short = sorted({r.attempts for r in rows if k > r.attempts})
        if not short:
            continue
        notes.append(f"pass@{k} not computable: needs >= {k} attempts per question, "
                     f"this run has {', '.join(map(str, short))}")
    return notes


def table(rows: Sequence[SubsetPassAtK], ks: Sequence[int]) -> tuple[list[str], list[dict[str, Any]]]:
    cols = ["subset", "questions", "attempts"] + [f"pass@{k}" for k in ks]
    out = []
    for r in rows:
        row: dict[str, Any] = {"subset": r.subset, "questions": r.questions, "attempts": r.attempts}
        for k in ks:
            missing = "no questions" if r.questions == 0 else "not computable"
            row[f"pass@{k}"] = missing if r.values[k] is None else r.values[k]
        out.append(row)
    return cols, out


K_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def _draw(rows: Sequence[SubsetPassAtK], ks: Sequence[int], notes: Sequence[str], demo: bool):
    shown = [k for k in ks if any(r.values[k] is not None for r in rows)]  # no empty legend entries

    def draw(fig) -> None:
        ax = fig.add_subplot()
        x = np.arange(len(rows))
        width = 0.8 / max(1, len(shown))
        for j, k in enumerate(shown):
            ok = [i for i, r in enumerate(rows) if r.values[k] is not None]
            ax.bar(x[ok] - 0.4 + width * (j + 0.5), [100 * rows[i].values[k] for i in ok], width,
                   label=f"pass@{k}", color=K_COLORS[ks.index(k) % len(K_COLORS)])
        ax.set_xticks(x, [r.subset for r in rows], rotation=45, ha="right")
        ax.set_ylabel("pass@k (%)")
        ax.set_ylim(0, 115 if notes else 105)
        ax.set_title(title("Fig. 2: pass@k per subset", demo))
        ax.legend(loc="lower right", fontsize=7)
        if notes:
            ax.text(0.01, 1.0, "\n".join(notes), transform=ax.transAxes, va="top", fontsize=6.5, color="0.3")

    return draw


def make_fig2(files: Mapping[str, str], ks: Sequence[int], stem: str, demo: bool) -> dict[str, Any]:
    """Fig. 2 from ``{subset: pass_at_k.json}``: writes ``stem``.png/.pdf/.tsv/.json."""
    ks = sorted({int(k) for k in ks})
    rows = [read_pass_at_k(files[s], s, ks) for s in ordered(list(files))]
    notes = not_computable(rows)
    cols, trows = table(rows, ks)
    write_tsv(f"{stem}.tsv", cols, trows)
    render(_draw(rows, ks, notes, demo), (7.0, 3.4), stem)
    n = sum(r.questions for r in rows)
    run = {}
    for k in ks:
        vals = [(r.values[k], r.questions) for r in rows if r.values[k] is not None and r.questions]
        # question-weighted mean over the subsets that can give pass@k
        run[f"pass@{k}"] = round(sum(v * q for v, q in vals) / sum(q for _, q in vals), 4) if vals else None
    summary = {
        "item": "Fig. 2", "what": "pass@k per subset", "demo": demo, "ks": ks, "rows": trows, "notes": notes,
        "paper": paper_values.text("pass_at_k_ks"),
        "run": ", ".join(f"{k}={'not computable' if v is None else f'{100 * v:.1f}%'}" for k, v in run.items())
               + f" over {n} questions",
    }
    write_summary(f"{stem}.json", summary)
    return summary
