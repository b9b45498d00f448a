"""The comparison with a published release (kodcode.paper.compare) on a small copy in the hub's
layout (tests/data/published_v1) and the demo run's release (tests/data/paper_run), and the
end-of-run message (kodcode.snake.success_lines)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from kodcode.paper import compare, difficulty, lengths
from kodcode.paper.files import PaperInputError, parquet_folder
from kodcode.paper.tokens import TokenCounter, bundled_token_counter

DATA = Path(__file__).resolve().parents[1] / "data"
PUBLISHED = DATA / "published_v1"
RUN = DATA / "paper_run" / "results" / "release" / "KodCode-V1"


@dataclass(frozen=True)
class _Encoding:
    ids: list[str]


class _Words:
    """Whitespace tokens: exact numbers to check by hand."""

    def encode_batch(self, texts, add_special_tokens=False):
        return [_Encoding(t.split()) for t in texts]


WORDS = TokenCounter("whitespace words", _Words())


def _tsv(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    head, *rows = path.read_text(encoding="utf-8").splitlines()
    assert head == "subset\tmetric\trun\tpublished"
    return {(r.split("\t")[0], r.split("\t")[1]): tuple(r.split("\t")[2:]) for r in rows}


def test_published_layout_is_read_by_subset_column():
    files = compare.release_files(PUBLISHED)
    assert [f.name for f in files] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    m = compare.summarize(compare.read_release(files, WORDS))
    assert list(m) == ["Leetcode", "Apps", "Docs", "All"]  # the paper's order
    assert {s: (m[s]["rows"], m[s]["share_pct"], m[s]["questions"]) for s in m} == {
        "Leetcode": (3, 37.5, 2), "Apps": (3, 37.5, 2), "Docs": (2, 25.0, 2), "All": (8, 100.0, 6)}
    assert [m["Leetcode"][f"{b}_pct"] for b in compare.BANDS] == [50.0, 0.0, 50.0]
    assert [m["Apps"][f"{b}_pct"] for b in compare.BANDS] == [50.0, 50.0, 0.0]
    assert [m["Docs"][f"{b}_pct"] for b in compare.BANDS] == [0.0, 0.0, 100.0]
    assert [m["All"][f"{b}_pct"] for b in compare.BANDS] == [33.33, 16.67, 50.0]
    assert m["All"]["difficulty_unlabelled"] == 0
    # tests: Leetcode 3, 5; Apps 2, 4; Docs 1, 2 (complete rows share their question's tests)
    assert (m["Leetcode"]["tests_mean"], m["Leetcode"]["tests_median"]) == (4.0, 4.0)
    assert (m["Docs"]["tests_mean"], m["Docs"]["tests_median"]) == (1.5, 1.5)
    assert (m["All"]["tests_mean"], m["All"]["tests_median"]) == (2.83, 2.5)
    # lengths count every row: Leetcode questions of 9, 13 and 5 words
    assert (m["Leetcode"]["question_tokens_mean"], m["Leetcode"]["question_tokens_median"]) == (9.0, 9)
    assert (m["Apps"]["question_tokens_mean"], m["Apps"]["question_tokens_median"]) == (8.0, 7)
    assert (m["All"]["question_tokens_mean"], m["All"]["question_tokens_median"]) == (8.25, 8.0)
    assert (m["All"]["solution_tokens_mean"], m["All"]["solution_tokens_median"]) == (4.5, 4.0)


def test_compare_writes_both_sides(tmp_path):
    run_files = sorted(RUN.glob("*.parquet"))
    stem = tmp_path / "compare"
    s = compare.make_compare(run_files, compare.release_files(PUBLISHED), WORDS, str(stem), demo=True,
                             run_label="results/release/KodCode-V1", published_label=str(PUBLISHED))
    t = _tsv(stem.with_suffix(".tsv"))
    assert t[("Leetcode", "rows")] == ("5", "3")
    assert t[("Apps", "rows")] == ("", "3") and t[("Taco", "rows")] == ("4", "")
    assert t[("All", "rows")] == ("13", "8") and t[("All", "share_pct")] == ("100", "100")
    assert t[("Docs", "hard_pct")] == ("", "100")
    assert t[("All", "tests_median")][1] == "2.5"
    assert s["only_in_run"] == ["Taco", "Algorithm"] and s["only_in_published"] == ["Apps", "Docs"]
    assert s["published"].startswith("8 rows, 6 questions (easy 33.33%, medium 16.67%, hard 50.0%)")
    assert json.loads(stem.with_suffix(".json").read_text())["rows"] == s["rows"]
    first = {ext: stem.with_suffix(f".{ext}").read_bytes() for ext in ("png", "pdf", "tsv", "json")}
    compare.make_compare(run_files, compare.release_files(PUBLISHED), WORDS, str(stem), demo=True,
                         run_label="results/release/KodCode-V1", published_label=str(PUBLISHED))
    assert first == {ext: stem.with_suffix(f".{ext}").read_bytes() for ext in first}  # byte-stable


def test_run_side_agrees_with_fig3_and_fig5():
    counter = bundled_token_counter()
    m = compare.summarize(compare.read_release(sorted(RUN.glob("*.parquet")), counter))
    files = parquet_folder(RUN)
    _, fig3 = lengths.table([lengths.subset_lengths(s, str(f), counter) for s, f in files.items()])
    for row in fig3:
        for key in ("question_tokens_mean", "question_tokens_median", "solution_tokens_mean", "tests_mean",
                    "tests_median"):
            assert m[row["subset"]][key] == row[key], (row["subset"], key)
    for s, f in files.items():  # gpt_difficulty holds the same bands Fig. 5 derives from the pass sequence
        bands = difficulty.bands_from_release(str(f))
        assert Counter({b: round(m[s]["questions"] * m[s][f"{b}_pct"] / 100) for b in compare.BANDS}) == \
            Counter({b: bands[b] for b in compare.BANDS})


def test_published_source():
    assert compare.published_source(None) is None
    local = compare.published_source("data/KodCode-V1")
    assert local.folder == "data/KodCode-V1" and local.unit is None
    hub = compare.published_source("hf:KodCode/KodCode-V1@" + "a" * 40)
    assert hub.unit.repo == "KodCode/KodCode-V1" and hub.unit.pinned
    assert hub.unit.allow_patterns == ("data/train-*.parquet",)
    assert hub.unit.key.startswith("hf/KodCode/KodCode-V1/" + "a" * 40 + "/")
    with pytest.raises(PaperInputError, match=r"^paper.published: 'hf:KodCode-V1' is not hf:<owner>/<name>@"):
        compare.published_source("hf:KodCode-V1")
    with pytest.raises(PaperInputError, match=r"^paper.published: give a folder"):
        compare.published_source("  ")


def test_bad_folders_are_one_line_errors(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pytest.raises(PaperInputError, match=r"nowhere: no such folder"):
        compare.release_files(tmp_path / "nowhere")
    with pytest.raises(PaperInputError, match=r"^paper.published: .*nowhere: no such folder"):
        compare.published_files(compare.published_source(str(tmp_path / "nowhere")))
    assert len(compare.published_files(compare.published_source(str(PUBLISHED)))) == 2
    with pytest.raises(PaperInputError, match=r"no .parquet file under it"):
        compare.release_files(tmp_path)
    bad = tmp_path / "x" / "part.parquet"
    bad.parent.mkdir()
    pq.write_table(pa.table({"subset": ["Leetcode"], "question": ["q"]}), bad)
    with pytest.raises(PaperInputError, match=r"part.parquet: no column style, solution, test, gpt_difficulty"):
        compare.read_release(compare.release_files(tmp_path), WORDS)
    (tmp_path / "x" / "part.parquet").write_text("not parquet")
    with pytest.raises(PaperInputError, match=r"part.parquet: not a readable parquet file"):
        compare.read_release([bad], WORDS)
    pq.write_table(pa.table({c: [None] for c in compare.COLUMNS}, schema=pa.schema([(c, pa.string()) for c in compare.COLUMNS])), bad)
    with pytest.raises(PaperInputError, match=r"part.parquet: a row has no subset"):
        compare.read_release([bad], WORDS)


def test_success_lines_name_only_what_exists(tmp_path):
    from kodcode.snake import success_lines

    assert success_lines(tmp_path) == []
    (tmp_path / "results" / "release").mkdir(parents=True)
    (tmp_path / "results" / "release" / "README.md").write_text("card")
    assert success_lines(tmp_path) == [
        "Release: results/release/ (card: results/release/README.md)",
        "Report: snakemake --report report.zip (with this run's --configfile/--config)",
    ]
    (tmp_path / "results" / "release" / "dataflow.tsv").write_text("x")
    (tmp_path / "results" / "paper").mkdir()
    (tmp_path / "results" / "paper" / "README.md").write_text("x")
    lines = success_lines(tmp_path)
    assert lines[0] == ("Release: results/release/ (card: results/release/README.md, "
                        "data flow: results/release/dataflow.tsv)")
    assert lines[1] == "Paper figures: results/paper/ (README.md)"
    (tmp_path / "results" / "paper" / "compare.tsv").write_text("x")
    assert success_lines(tmp_path)[1] == ("Paper figures: results/paper/ (README.md; beside the published "
                                          "release: compare.tsv)")
    (tmp_path / "results" / "exports" / "verl").mkdir(parents=True)
    (tmp_path / "results" / "exports" / "light-rl").mkdir()
    assert success_lines(tmp_path)[1] == "Training exports: results/exports/ (light-rl, verl)"
