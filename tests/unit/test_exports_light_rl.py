"""Light-RL (kodcode.exports.light_rl, rule export_light_rl): the seeded selection on made-up
rows (with a stand-in for the re-run), then the whole export on a real demo release
(tests/data/exports_release: the demo run's Leetcode, Docs, Algorithm and Taco files, with
stdin/stdout rows) with the real executor, read back with `datasets` and pandas."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from kodcode.exports.common import ExportError, question_group, row_kind
from kodcode.exports.light_rl import (DROPPED_COLUMNS, ExecutorCheck, LightRLConfig, excluded_import, export_light_rl,
                                      imported_modules, select)

DATA = Path(__file__).resolve().parents[1] / "data" / "exports_release"
V1 = sorted((DATA / "release" / "KodCode-V1").glob("*.parquet"))
EXCLUDE = ("torch", "pandas", "sklearn", "flask", "seaborn")


def rows_of(n_questions: int, styles=("instruct", "complete")) -> list[dict]:
    rows = []
    for q in range(n_questions):
        for style in styles:
            rows.append({"question_id": f"Leetcode_{q:08d}_{style[0].upper()}", "style": style, "subset": "Leetcode",
                         "question": f"q{q}", "solution": f"def f{q}():\n    return {q}\n",
                         "test": f"from solution import f{q}\n\ndef test():\n    assert f{q}() == {q}\n"})
    return rows


def all_pass(rows):
    return [True] * len(rows)


def cfg(**kw) -> LightRLConfig:
    return LightRLConfig(**{"n": 10, "test_size": 4, "seed": 7, "exclude_imports": EXCLUDE, **kw})


def test_imported_modules_sees_every_import_form():
    code = ("import os, sys as system\nimport sklearn.linear_model as lm\nfrom pandas.api import types\n"
            "from . import sibling\n\ndef f():\n    import torch\n    from flask import Flask\n")
    assert imported_modules(code) == {"os", "sys", "sklearn", "pandas", "torch", "flask"}
    # code that does not parse is scanned line by line
    assert imported_modules("import numpy as np\nfrom torch.nn import Linear\ndef broken(:\n") == {"numpy", "torch"}


def test_a_row_importing_a_listed_module_in_solution_or_tests_is_excluded():
    row = {"solution": "import math\n", "test": "import pandas as pd\nfrom solution import *\n"}
    assert excluded_import(row, EXCLUDE) == "pandas"
    assert excluded_import(row, ("torch",)) is None
    assert excluded_import({"solution": "import flask\nimport torch\n", "test": ""}, EXCLUDE) == "flask"


def test_selection_is_deterministic_and_depends_on_the_seed():
    rows = rows_of(40)
    a, b = select(rows, cfg(), all_pass), select(rows, cfg(), all_pass)
    assert (a.train, a.test) == (b.train, b.test)
    other = select(rows, cfg(seed=8), all_pass)
    assert (other.train, other.test) != (a.train, a.test)
    assert len(a.train) + len(a.test) == 10 and len(a.test) == 4


def test_test_split_is_held_out_by_question():
    rows = rows_of(40)
    sel = select(rows, cfg(n=30, test_size=10), all_pass)
    assert len(sel.test) == 10 and len(sel.train) == 20 and not set(sel.train) & set(sel.test)
    train_q = {question_group(rows[i]["question_id"]) for i in sel.train}
    test_q = {question_group(rows[i]["question_id"]) for i in sel.test}
    assert not train_q & test_q  # both styles of a question are in one split
    assert sel.summary["selected"] == 30 and sel.summary["short_of_n"] == 0


def test_listed_imports_and_failing_reference_solutions_are_left_out():
    rows = rows_of(12)
    rows[0]["solution"] = "import torch\n" + rows[0]["solution"]
    rows[3]["test"] = "import pandas as pd\n" + rows[3]["test"]
    fails = {rows[4]["question_id"]}
    seen: list[str] = []

    def check(batch):
        seen.extend(r["question_id"] for r in batch)
        return [r["question_id"] not in fails for r in batch]

    sel = select(rows, cfg(n=100, test_size=4), check)
    chosen = {rows[i]["question_id"] for i in sel.train + sel.test}
    assert rows[0]["question_id"] not in chosen and rows[3]["question_id"] not in chosen
    assert rows[4]["question_id"] not in chosen and rows[5]["question_id"] in chosen  # its other style stays
    assert sel.summary["dropped"] == {"imports pandas": 1, "imports torch": 1,
                                      "reference solution fails its tests on re-run": 1}
    assert rows[0]["question_id"] not in seen  # excluded rows are not even re-run
    assert sel.summary["short_of_n"] == 100 - len(chosen)


def test_only_as_many_rows_as_needed_are_re_run():
    rows = rows_of(500)
    calls = Counter()

    def check(batch):
        calls["rows"] += len(batch)
        return [True] * len(batch)

    select(rows, cfg(n=20, test_size=4), check)
    assert calls["rows"] < 60  # of 1000 candidates


def test_stdin_stdout_rows_run_as_stdio_and_unknown_styles_are_counted():
    cases = json.dumps({"cases": [{"input": "1 2\n", "output": "3\n"}]})
    oj = {"question_id": "Leetcode_00000000_OJ", "style": "online_judge", "solution": "print(3)\n", "test": cases}
    odd = {"question_id": "Leetcode_00000001_X", "style": "mystery", "solution": "x = 1\n", "test": "not json"}
    assert row_kind(oj) == "stdio" and row_kind(odd) is None and row_kind({"style": "complete"}) == "pytest"
    assert question_group(oj["question_id"]) == "Leetcode_00000000"
    rows = rows_of(3) + [oj, odd]
    sel = select(rows, cfg(n=10, test_size=2), all_pass)
    picked = {rows[i]["question_id"] for i in sel.train + sel.test}
    assert oj["question_id"] in picked and odd["question_id"] not in picked
    assert sel.summary["dropped"] == {"tests this version cannot run (style mystery)": 1}


def test_a_test_split_not_below_n_is_one_line_naming_the_keys():
    with pytest.raises(ExportError, match=r"exports\.light_rl\.test_size \(50\) must be below exports\.light_rl\.n \(10\)"):
        select(rows_of(3), cfg(n=10, test_size=50), all_pass)


def test_a_small_release_shrinks_the_test_split_and_keeps_train():
    one = select(rows_of(1), cfg(n=40, test_size=8), all_pass)  # a one-subset demo run: one question
    assert len(one.train) == 2 and one.test == [] and one.summary["short_of_n"] == 38
    half = select(rows_of(10), cfg(n=40, test_size=8), all_pass)  # 20 of 40 rows: 4 held out
    assert len(half.test) == 4 and len(half.train) == 16
    two = select(rows_of(2), cfg(n=40, test_size=8), all_pass)  # 8 x 4 / 40 rounds to 1: one question
    assert len(two.test) == 2 and len(two.train) == 2


def test_nothing_to_select_is_one_line_saying_why():
    rows = rows_of(2)
    for r in rows:
        r["test"] = "import torch\n" + r["test"]
    with pytest.raises(ExportError, match=r"no row of the release qualifies \(imports torch: 4\)"):
        select(rows, cfg(), all_pass)


@pytest.fixture(scope="module")
def engine_ok():
    from kodcode.executor.engines import bwrap_problem

    problem = bwrap_problem()
    if problem is not None:
        pytest.skip(f"bwrap unusable here: {problem}")


def test_export_on_the_demo_release_with_the_executor_and_its_verdict_store(tmp_path, engine_ok):
    import datasets
    import pandas as pd
    import pyarrow.parquet as pq

    out = {k: str(tmp_path / "light-rl" / f"{k}.{ext}") for k, ext in
           (("train", "parquet"), ("test", "parquet"), ("summary", "json"))}
    # the demo's code imports only the standard library: exclude one of its modules
    params = {"light_rl": {"n": 10, "test_size": 4, "seed": 11, "exclude_imports": ["collections"]},
              "executor": {"engine": "auto", "limits": {"timeout_s": 10}, "preload": []}}
    store = tmp_path / "store"
    check = ExecutorCheck(params["executor"], str(store))
    export_light_rl([str(p) for p in V1], out["train"], out["test"], out["summary"], params, str(store),
                    check=check)
    summary = json.loads(Path(out["summary"]).read_text())
    assert summary["train"] + summary["test"] == summary["selected"] == 10 and summary["test"] == 4
    assert summary["dropped"]["imports collections"] > 0
    assert check.counts["executed"] > 0

    ds = datasets.load_dataset("parquet", data_files={"train": out["train"], "test": out["test"]})
    source_cols = pq.read_schema(V1[0]).names
    assert ds["train"].column_names == [c for c in source_cols if c not in DROPPED_COLUMNS]
    assert len(ds["train"]) == summary["train"] and len(ds["test"]) == 4
    for split in ("train", "test"):
        for row in ds[split]:
            assert "collections" not in imported_modules(row["solution"]) | imported_modules(row["test"])
    frame = pd.concat([pd.read_parquet(out["train"]), pd.read_parquet(out["test"])])
    assert set(frame["subset"]) <= {"Leetcode", "Docs", "Algorithm", "Taco"}
    assert {"instruct", "complete"} <= set(frame["style"])

    # a second export asks the verdict store: nothing runs again, same bytes
    again = tmp_path / "again"
    check2 = ExecutorCheck(params["executor"], str(store))
    export_light_rl([str(p) for p in V1], str(again / "train.parquet"), str(again / "test.parquet"),
                    str(again / "summary.json"), params, str(store), check=check2)
    # (the store counts distinct attempts: both styles of a question often share solution and tests)
    assert check2.counts["executed"] == 0 and check2.counts["cached"] == check.counts["executed"] + check.counts["cached"]
    assert (again / "train.parquet").read_bytes() == Path(out["train"]).read_bytes()
    shutil.rmtree(again)
