"""verl export (kodcode.exports.verl, rule export_verl) and its reward function
(kodcode.exports.reward), on real rows of the demo release in tests/data/exports_release:
the rows load with `datasets` in verl's layout, and the reward module, loaded by file path as
verl's custom_reward_function loader does, scores a correct completion 1.0 and a wrong one 0.0
by running the tests in the sandbox."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kodcode.exports.common import ExportError
from kodcode.exports.reward import extract_code
from kodcode.exports.verl import export_verl, reward_module_path, verl_rows, write_verl

DATA = Path(__file__).resolve().parents[1] / "data" / "exports_release"
V1 = sorted((DATA / "release" / "KodCode-V1").glob("*.parquet"))
PARAMS = {"data_source": "kodcode", "instruction": "Write your solution in Python in one ```python code block."}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for p in V1:
        out += pq.read_table(p).to_pylist()
    return out


@pytest.fixture(scope="module")
def pytest_row(rows) -> dict:
    return next(r for r in rows if r["subset"] == "Leetcode" and r["style"] == "instruct")


@pytest.fixture(scope="module")
def stdio_row(rows) -> dict:
    found = [r for r in rows if r["style"] == "online_judge"]
    if not found:
        pytest.skip("the demo release copy has no stdin/stdout rows")
    return found[0]


def test_rows_have_verls_fields_and_load_with_datasets(tmp_path, rows):
    import datasets

    split_rows = [r for r in rows if r["style"] in ("instruct", "complete", "online_judge")][:12]
    path = tmp_path / "train.parquet"
    write_verl(verl_rows(split_rows, "train", **PARAMS), str(path))
    ds = datasets.load_dataset("parquet", data_files={"train": str(path)}, split="train")
    assert ds.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    for i, (row, src) in enumerate(zip(ds, split_rows)):
        assert row["data_source"] == "kodcode" and row["ability"] == "code"
        assert row["prompt"] == [{"role": "user", "content": src["question"].rstrip() + "\n\n" + PARAMS["instruction"]}]
        assert row["reward_model"] == {"style": "rule", "ground_truth": src["test"]}
        info = row["extra_info"]
        assert info["split"] == "train" and info["index"] == i and info["question_id"] == src["question_id"]
        assert info["test_kind"] == ("stdio" if src["style"] == "online_judge" else "pytest")


def test_an_empty_instruction_leaves_the_question_alone(pytest_row):
    (row,) = verl_rows([pytest_row], "test", "kodcode", "")
    assert row["prompt"][0]["content"] == pytest_row["question"]


def test_a_row_without_runnable_tests_is_a_one_line_error(pytest_row):
    with pytest.raises(ExportError, match="has no runnable tests"):
        verl_rows([{**pytest_row, "style": "mystery", "test": "??"}], "train", "kodcode", "")


def test_export_writes_both_splits_and_a_copy_of_the_reward_module(tmp_path, rows):
    import pyarrow as pa

    light = tmp_path / "light-rl"
    light.mkdir()
    table = pa.Table.from_pylist(rows)
    pq.write_table(table.slice(0, 6), light / "train.parquet")
    pq.write_table(table.slice(6, 2), light / "test.parquet")
    out = tmp_path / "verl"
    export_verl(str(light / "train.parquet"), str(light / "test.parquet"), str(out / "train.parquet"),
                str(out / "test.parquet"), str(out / "kodcode_reward.py"), PARAMS)
    assert pq.read_table(out / "train.parquet").num_rows == 6 and pq.read_table(out / "test.parquet").num_rows == 2
    assert pq.read_table(out / "test.parquet").column("extra_info").to_pylist()[0]["split"] == "test"
    assert (out / "kodcode_reward.py").read_bytes() == reward_module_path().read_bytes()


@pytest.mark.parametrize("completion, code", [
    ("<think>\nuse ```python\nx = 0\n``` maybe\n</think>\nHere:\n```python\ndef f():\n    return 1\n```\n",
     "def f():\n    return 1\n"),
    ("First try:\n```python\ndef f(): return 0\n```\nBetter:\n```\ndef f(): return 1\n```", "def f(): return 1\n"),
    ("```py\nprint(3)\n```\nExample:\n```text\n3\n```", "print(3)\n"),
    ("<think>\nstill thinking about ```python\ndef f(): pass\n```", None),  # never closed
    ("</think>no code at all", None),
])
def test_the_code_is_the_last_python_block_after_the_reasoning(completion, code):
    assert extract_code(completion) == code


def load_reward_by_path(path: Path):
    """As verl's load_extern_object does: a module from a file, not an import."""
    spec = importlib.util.spec_from_file_location(f"custom_module_{abs(hash(str(path)))}", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compute_score


@pytest.fixture(scope="module")
def compute_score(tmp_path_factory):
    from kodcode.executor.engines import bwrap_problem

    if bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {bwrap_problem()}")
    copy = tmp_path_factory.mktemp("verl") / "kodcode_reward.py"  # the copy the export writes
    copy.write_bytes(reward_module_path().read_bytes())
    return load_reward_by_path(copy)


def wrong_solution(row: dict) -> str:
    """Every function the question asks for, returning None."""
    return "".join(f"{t['function_declaration']}\n    return None\n\n" for t in row["test_info"])


def test_reward_scores_a_correct_and_a_wrong_completion(compute_score, pytest_row, monkeypatch):
    monkeypatch.setenv("KODCODE_REWARD_TIMEOUT_S", "10")
    (row,) = verl_rows([pytest_row], "train", **PARAMS)
    gt, info = row["reward_model"]["ground_truth"], row["extra_info"]
    right = f"<think>\nThe tests call it directly.\n</think>\n\n```python\n{pytest_row['solution']}```\n"
    wrong = f"<think>\nLazy.\n</think>\n\n```python\n{wrong_solution(pytest_row)}```\n"
    assert compute_score(row["data_source"], right, gt, info) == 1.0
    assert compute_score(row["data_source"], wrong, gt, info) == 0.0
    assert compute_score(row["data_source"], "I don't know.", gt, info) == 0.0
    # verl passes reward_kwargs as extra keyword arguments
    assert compute_score(row["data_source"], right, gt, extra_info=info, sandbox_fusion_url=None) == 1.0


def test_reward_runs_stdin_stdout_rows_as_stdio(compute_score, stdio_row, monkeypatch):
    monkeypatch.setenv("KODCODE_REWARD_TIMEOUT_S", "10")
    (row,) = verl_rows([stdio_row], "train", **PARAMS)
    gt, info = row["reward_model"]["ground_truth"], row["extra_info"]
    assert info["test_kind"] == "stdio"
    assert compute_score("kodcode", f"```python\n{stdio_row['solution']}```", gt, info) == 1.0
    assert compute_score("kodcode", "```python\nprint('nope')\n```", gt, info) == 0.0


def test_reward_with_made_up_stdio_cases(compute_score):
    cases = json.dumps({"cases": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}]})
    info = {"test_kind": "stdio"}
    add = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert compute_score("kodcode", f"```python\n{add}```", cases, info) == 1.0
    assert compute_score("kodcode", f"```python\n{add.replace('+', '-')}```", cases, info) == 0.0
