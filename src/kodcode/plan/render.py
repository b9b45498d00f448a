"""A plan as a readable table, TSV or JSON."""

from __future__ import annotations

import json

from . import defaults as D
from .estimate import Plan, Row
from .measure import GEN_STAGES

COLUMNS = ("subset", "stage", "model", "provider", "requests", "prompt_tokens", "completion_tokens", "cost_usd",
           "gpu_hours", "attempts", "cpu_hours", "store_bytes", "results_bytes")
HEADERS = ("subset", "stage", "model", "provider", "requests", "prompt tok", "compl. tok", "US$", "GPU-h",
           "exec attempts", "CPU-h", "store", "results")


def count(x: float) -> str:
    """1234567 -> 1.23M: magnitudes from the demo's dozens to the paper's millions."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def size(b: float) -> str:
    for div, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if b >= div:
            return f"{b / div:.1f} {unit}"
    return f"{b:.0f} B"


def money(x: float | None) -> str:
    return "?" if x is None else f"{x:,.2f}"


def hours(x: float) -> str:
    return f"{x:,.1f}" if x >= 1 or x == 0 else f"{x:.3f}"


def _cells(r: Row) -> list[str]:
    return [r.subset, r.stage, r.model.split("/")[-1], r.provider, count(r.requests), count(r.prompt_tokens),
            count(r.completion_tokens), money(r.cost_usd), hours(r.gpu_hours), count(r.attempts),
            hours(r.cpu_hours), size(r.store_bytes), size(r.results_bytes)]


def _total_cells(plan: Plan, label: str, stage: str | None = None) -> list[str]:
    rows = [r for r in plan.rows if stage is None or r.stage == stage]
    cost = None if any(r.cost_usd is None for r in rows) else sum(r.cost_usd or 0.0 for r in rows)
    t = lambda name: sum(getattr(r, name) for r in rows)  # noqa: E731
    return [label, stage or "all", "", "", count(t("requests")), count(t("prompt_tokens")),
            count(t("completion_tokens")), money(cost), hours(t("gpu_hours")), count(t("attempts")),
            hours(t("cpu_hours")), size(t("store_bytes")), size(t("results_bytes"))]


def table(plan: Plan) -> str:
    present = {r.stage for r in plan.rows}
    stages = [s for s in GEN_STAGES if s in present]  # the chain's order
    body = [_cells(r) for r in plan.rows]
    totals = [_total_cells(plan, "total", s) for s in stages] + [_total_cells(plan, "TOTAL")]
    grid = [list(HEADERS)] + body + totals
    widths = [max(len(row[i]) for row in grid) for i in range(len(HEADERS))]
    right = set(range(4, len(HEADERS)))

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    out = [f"kodcode plan: {', '.join(plan.config_files)} (backend {plan.backend})", "", line(grid[0]), rule]
    out += [line(c) for c in body] + [rule] + [line(c) for c in totals]
    verified = plan.total("requests", "style")  # one style conversion per verified question
    paper = D.PAPER["verified_questions"]
    out += ["", f"verified questions: {count(verified)} ({paper.source})"]
    out += ["cost by provider (US$): " + ", ".join(f"{p} {money(c)}" for p, c in plan.cost_by_provider().items())]
    out += ["", "where the numbers come from:"] + [f"  {k}: {v}" for k, v in plan.sources.items()]
    out += [f"note: {n}" for n in plan.notes]
    return "\n".join(out)


def tsv(plan: Plan) -> str:
    def cell(v: object) -> str:
        return "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)

    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(cell(getattr(r, c)) for c in COLUMNS) for r in plan.rows]
    return "\n".join(lines)


def as_json(plan: Plan) -> str:
    return json.dumps(plan.as_dict(), indent=2)


FORMATS = {"table": table, "tsv": tsv, "json": as_json}
