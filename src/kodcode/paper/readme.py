"""results/paper/README.md: each paper item with its rule, files, the paper's value and this run's."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from . import paper_values
from .files import load_json
from .targets import CONTAMINATION, items


def render_readme(summaries: Mapping[str, Mapping[str, Any]], demo: bool, run_name: str) -> str:
    """Markdown from ``{rule: summary JSON}`` (each figure's ``.json``)."""
    out = [f"# Paper figures and tables from this run ({run_name})", ""]
    if demo:
        out += ["> **Demo data.** These numbers come from the bundled demo run, whose model responses were",
                "> written by hand; they show that the figures are computed, not what the paper measured.", ""]
    out += ["Paper: KodCode, arXiv 2503.02951. \"not recorded\": the paper's value is not transcribed in",
            "`src/kodcode/paper/paper_values.py`.", "",
            "| paper item | rule | output | paper value | this run |", "|---|---|---|---|---|"]
    for it in items(True):
        s = summaries.get(it.rule)
        if s is None:
            continue
        files = ", ".join(f"`{it.stem}.{e}`" for e in ("png", "pdf", "tsv"))
        out.append(f"| {it.item}: {s['what']} | `{it.rule}` | {files} | {s['paper']} | {s['run']} |")
    if CONTAMINATION.rule not in summaries:
        out.append(f"| {CONTAMINATION.item}: contamination | (decontam.benchmarks is empty) | | "
                   f"{paper_values.text('contamination')} | not computed in this run |")
    notes = [n for it in items(True) for n in summaries.get(it.rule, {}).get("notes", [])]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    tok = summaries.get("paper_fig3_lengths", {}).get("tokenizer")
    if tok:
        out += ["", f"Token counts (Fig. 3) use the {tok}."]
    return "\n".join(out) + "\n"


def write_readme(summary_files: Mapping[str, str], out: str, demo: bool, run_name: str) -> None:
    summaries = {rule: load_json(path) for rule, path in sorted(summary_files.items())}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(render_readme(summaries, demo, run_name), encoding="utf-8")
