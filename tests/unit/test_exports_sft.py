"""SFT exports (kodcode.exports.sharegpt, sft_filter; rules export_llamafactory, export_trl) on
the SFT-R1 files of a real demo release (tests/data/exports_release): the LLaMA-Factory
sharegpt file and its dataset_info.json entry, read the way LLaMA-Factory reads them, and the
TRL messages file, loaded with `datasets` and pandas; the paper's SFT filtering on real rows
made too long, too short or class-based."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kodcode.exports.common import ExportError
from kodcode.exports.sft_filter import OFF as OFF_FILTER
from kodcode.exports.sft_filter import (CLASS_FOR_FUNCTION, NOT_CORRECT, TOO_LONG, TOO_SHORT, SftFilter, apply,
                                        asked_functions, drop_reason)
from kodcode.exports.sharegpt import DATASET_NAME, export_llamafactory, export_trl, sharegpt_example

DATA = Path(__file__).resolve().parents[1] / "data" / "exports_release"
SFT = [str(p) for p in sorted((DATA / "release" / "KodCode-V1-SFT-R1").glob("*.parquet"))]
OFF = {"sft_filter": {"enabled": False, "min_chars": 200, "max_chars": 32000, "drop_class_when_function": True}}
ON = SftFilter(enabled=True, min_chars=100, max_chars=5000, drop_class_when_function=True)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for p in SFT:
        out += pq.read_table(p).to_pylist()
    assert out and all(r["r1_correctness"] == "True" for r in out)
    return out


def with_answer(row: dict, answer: str, code: str | None = None) -> dict:
    conv = [dict(t) for t in row["conversations"]]
    conv[-1]["value"] = answer
    return {**row, "conversations": conv, "r1_solution": code if code is not None else row["r1_solution"]}


def test_the_demo_rows_pass_the_filter(rows):
    kept, dropped = apply(rows, ON)
    assert len(kept) == len(rows) and not dropped


def test_too_short_and_too_long_answers_are_dropped(rows):
    row = rows[0]
    assert drop_reason(with_answer(row, "```python\npass\n```"), ON) == TOO_SHORT
    assert drop_reason(with_answer(row, "<think>\n" + "hmm " * 2000 + "</think>\n" + row["conversations"][-1]["value"]),
                       ON) == TOO_LONG
    assert drop_reason(with_answer(row, "x" * 50), OFF_FILTER) is None  # the filter is off


def test_a_class_where_a_function_was_asked_is_dropped_and_a_class_asked_for_is_kept(rows):
    row = next(r for r in rows if r["test_info"] and asked_functions(r))
    name = sorted(asked_functions(row))[0]
    klass = f"class Solution:\n    def {name}(self, *args):\n        return None\n"
    answer = "<think>\nI will write a class for this problem, as usual.\n</think>\n\n```python\n" + klass + "```\n"
    assert drop_reason(with_answer(row, answer, klass), ON) == CLASS_FOR_FUNCTION
    assert drop_reason(with_answer(row, answer, klass),
                       SftFilter(enabled=True, min_chars=0, max_chars=None, drop_class_when_function=False)) is None
    # a helper class beside the asked function is fine
    both = klass + f"\n\ndef {name}(*args):\n    return Solution().{name}(*args)\n"
    assert drop_reason(with_answer(row, answer, both), ON) is None
    # the question asks for a class (the reference defines no module-level function it names)
    asked_class = {**row, "solution": klass}
    assert drop_reason(with_answer(asked_class, answer, klass), ON) is None


def test_answers_that_failed_the_tests_are_never_exported(rows):
    assert drop_reason({**rows[0], "r1_correctness": "False"}, OFF_FILTER) == NOT_CORRECT


def test_llamafactory_export_matches_its_sharegpt_spec(tmp_path, rows):
    import datasets

    out = tmp_path / "llamafactory"
    params = {"sft_filter": {"enabled": True, "min_chars": 100, "max_chars": 20000, "drop_class_when_function": True}}
    export_llamafactory(SFT, str(out / "kodcode_sft_r1.json"), str(out / "dataset_info.json"),
                        str(out / "summary.json"), params)
    info = json.loads((out / "dataset_info.json").read_text())
    entry = info[DATASET_NAME]  # dataset: kodcode_sft_r1, dataset_dir: the folder
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations"}
    tags = entry["tags"]
    assert (tags["role_tag"], tags["content_tag"], tags["user_tag"], tags["assistant_tag"]) == (
        "from", "value", "human", "gpt")
    # LLaMA-Factory loads file_name (relative to dataset_dir) with datasets' json loader
    ds = datasets.load_dataset("json", data_files=str(out / entry["file_name"]), split="train")
    assert len(ds) == len(rows) == json.loads((out / "summary.json").read_text())["examples"]
    messages = entry["columns"]["messages"]
    assert messages in ds.column_names
    for example, src in zip(ds, rows):
        turns = example[messages]
        # its sharegpt rule: user turns at odd positions (1st, 3rd, ...), assistant turns at even ones
        assert [t[tags["role_tag"]] for t in turns] == [tags["user_tag"], tags["assistant_tag"]]
        assert turns[0][tags["content_tag"]] == src["conversations"][0]["value"]
        assert turns[1][tags["content_tag"]] == src["conversations"][1]["value"]


def test_trl_export_is_conversational_messages(tmp_path, rows):
    import datasets
    import pandas as pd

    out = tmp_path / "trl" / "train.jsonl"
    export_trl(SFT, str(out), str(tmp_path / "trl" / "summary.json"), OFF)
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert ds.column_names == ["messages"] and len(ds) == len(rows)
    assert ds[0]["messages"] == [{"role": "user", "content": rows[0]["conversations"][0]["value"]},
                                 {"role": "assistant", "content": rows[0]["conversations"][1]["value"]}]
    frame = pd.read_json(out, lines=True)
    assert list(frame.columns) == ["messages"] and len(frame) == len(rows)


def test_a_conversation_in_another_layout_is_a_one_line_error(rows):
    bad = {**rows[0], "conversations": [{"from": "assistant", "value": "hi"}, {"from": "user", "value": "?"}]}
    with pytest.raises(ExportError, match="does not alternate"):
        sharegpt_example(bad)
    with pytest.raises(ExportError, match="turn from 'bot'"):
        sharegpt_example({**rows[0], "conversations": [{"from": "bot", "value": "hi"}]})


def test_max_below_min_is_one_line_naming_the_keys(tmp_path):
    params = {"sft_filter": {"enabled": True, "min_chars": 500, "max_chars": 100, "drop_class_when_function": True}}
    with pytest.raises(ExportError, match=r"exports\.sft_filter\.max_chars \(100\) is below min_chars \(500\)"):
        export_trl(SFT, str(tmp_path / "t.jsonl"), str(tmp_path / "s.json"), params)
