"""Fig. 6 (contamination) on the decontamination reports of a real demo run: Prefill's
question 3 restates HumanEval/0 (both styles in the report, the complete form at 0.967)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodcode.paper.contamination import make_fig6, per_question
from kodcode.paper.files import PaperInputError

RUN = Path(__file__).resolve().parents[1] / "data" / "paper_run" / "results"
REPORTS = {s: str(RUN / s / "decontam" / "report.jsonl") for s in ("Leetcode", "Algorithm", "Prefill")}


def test_a_question_counts_once_under_its_best_style():
    rows = [json.loads(x) for x in Path(REPORTS["Prefill"]).read_text().splitlines()]
    best = per_question(rows, REPORTS["Prefill"])
    assert len(best) == len(rows) // 2  # instruct + complete per question
    assert best["Prefill_00000003"] == {"similarity": 0.967, "benchmark": "humaneval", "contaminated": True}
    assert sum(q["contaminated"] for q in best.values()) == 1


def test_fig6_matrix_histogram_and_files(tmp_path):
    stem = str(tmp_path / "fig6_contamination")
    summary = make_fig6(REPORTS, 0.95, stem, demo=True)
    rows = {r["subset"]: r for r in summary["rows"]}
    assert list(rows) == ["Prefill", "Leetcode", "Algorithm"]  # the paper's order
    assert rows["Prefill"]["humaneval"] == 1 and rows["Prefill"]["max_similarity"] == 0.967
    assert rows["Leetcode"]["contaminated"] == 0 == rows["Algorithm"]["contaminated"]
    assert summary["run"].startswith("1 of ") and "94" in summary["paper"]
    first = {ext: Path(f"{stem}.{ext}").read_bytes() for ext in ("png", "pdf", "tsv", "json")}
    make_fig6(REPORTS, 0.95, stem, demo=True)
    assert {ext: Path(f"{stem}.{ext}").read_bytes() for ext in first} == first  # byte-stable


def test_a_report_row_without_similarity_is_one_line(tmp_path):
    bad = tmp_path / "report.jsonl"
    bad.write_text('{"question_id": "x_I", "benchmark": "humaneval"}\n')
    with pytest.raises(PaperInputError, match="needs question_id, benchmark and similarity"):
        make_fig6({"Leetcode": str(bad)}, 0.95, str(tmp_path / "f"), demo=False)
