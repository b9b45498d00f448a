"""Writes tiny copies of the benchmark datasets in their Hugging Face layouts, for the loader tests.

The rows were written for this project; they are not taken from the benchmarks. The folder and
file names and the column names (and types) follow the hub repositories:
google-research-datasets/mbpp (full/ and sanitized/ parquet), bigcode/bigcodebench
(data/<version>-*.parquet) and livecodebench/code_generation_lite (test.jsonl .. test6.jsonl).
Files that the loaders must ignore (MBPP sanitized, an older BigCodeBench version, LiveCodeBench
test6 which is after release_v5) are here too. Run: ``python tests/data/benchmarks/make_copies.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def parquet(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def mbpp() -> None:
    full = pa.schema([("task_id", pa.int32()), ("text", pa.string()), ("code", pa.string()),
                      ("test_list", pa.list_(pa.string())), ("test_setup_code", pa.string()),
                      ("challenge_test_list", pa.list_(pa.string()))])
    row = lambda i, text, code, test: {"task_id": i, "text": text, "code": code, "test_list": [test],  # noqa: E731
                                       "test_setup_code": "", "challenge_test_list": []}
    parquet(HERE / "mbpp/full/test-00000-of-00001.parquet", [
        row(11, "Write a function to count the vowels in a string.",
            "def count_vowels(s):\r\n  return sum(c in 'aeiou' for c in s.lower())",
            "assert count_vowels('Banana') == 3"),
        row(12, "Write a python function to reverse the words of a sentence.",
            "def reverse_words(s):\r\n  return ' '.join(s.split()[::-1])",
            "assert reverse_words('a b c') == 'c b a'"),
    ], full)
    parquet(HERE / "mbpp/full/train-00000-of-00001.parquet", [
        row(601, "Write a function to find the product of the digits of a positive integer.",
            "def digit_product(n):\r\n  p = 1\r\n  for d in str(n):\r\n    p *= int(d)\r\n  return p",
            "assert digit_product(234) == 24"),
    ], full)
    sanitized = pa.schema([("source_file", pa.string()), ("task_id", pa.int32()), ("prompt", pa.string()),
                           ("code", pa.string()), ("test_imports", pa.list_(pa.string())),
                           ("test_list", pa.list_(pa.string()))])
    parquet(HERE / "mbpp/sanitized/test-00000-of-00001.parquet", [
        {"source_file": "demo.pdf", "task_id": 11, "prompt": "Write a function to count the vowels in a string.",
         "code": "def count_vowels(s): ...", "test_imports": [], "test_list": []},
    ], sanitized)


def bigcodebench() -> None:
    s = pa.string()
    schema = pa.schema([(c, s) for c in ("task_id", "complete_prompt", "instruct_prompt", "canonical_solution",
                                         "code_prompt", "test", "entry_point", "doc_struct", "libs")])

    def row(i: int, name: str, doc: str) -> dict:
        code = f"import os\ndef {name}(path):\n"
        return {"task_id": f"BigCodeBench/{i}", "code_prompt": code, "entry_point": name, "libs": "['os']",
                "complete_prompt": f'{code}    """\n    {doc}\n    """\n',
                "instruct_prompt": f"{doc}\nYou should write self-contained code starting with:\n```\n{code}```",
                "canonical_solution": "    return 0\n", "test": "import unittest\n",
                "doc_struct": json.dumps({"description": [doc]})}

    parquet(HERE / "bigcodebench/data/v0.1.4-00000-of-00001.parquet", [
        row(0, "task_func", "Count the regular files directly inside the directory path."),
        row(1, "task_func", "Return the total size in bytes of the files under the directory path."),
    ], schema)
    parquet(HERE / "bigcodebench/data/v0.1.3-00000-of-00001.parquet", [
        row(0, "task_func", "An older wording the loader must not read."),
    ], schema)


def livecodebench() -> None:
    def row(qid: str, title: str, content: str, platform: str, date: str) -> dict:
        return {"question_title": title, "question_content": content, "platform": platform, "question_id": qid,
                "contest_id": qid.split("_")[0], "contest_date": date, "starter_code": "",
                "difficulty": "easy", "public_test_cases": json.dumps([{"input": "1\n", "output": "1\n",
                                                                       "testtype": "stdin"}]),
                "private_test_cases": "eJwLycgsVgCi4vzcVIWS1OISAEzTB4o=", "metadata": "{}"}

    files = {
        "test.jsonl": [row("abc900_a", "Echo", "Read an integer N and print it.", "atcoder", "2023-05-06T00:00:00"),
                       row("abc900_b", "Twice", "Read an integer N and print 2N.", "atcoder", "2023-05-06T00:00:00")],
        "test2.jsonl": [row("3990", "Count Pairs", "Given an array nums, count pairs i < j with nums[i] == nums[j].",
                            "leetcode", "2023-11-11T00:00:00")],
        "test3.jsonl": [row("1990_A", "Stripes", "Decide whether a red or a blue stripe was painted last.",
                            "codeforces", "2024-06-01T00:00:00")],
        "test4.jsonl": [row("abc950_c", "Sum Digits", "Print the sum of the decimal digits of N.", "atcoder",
                            "2024-08-03T00:00:00")],
        "test5.jsonl": [row("arc990_a", "Parity", "Print Yes if N is even and No otherwise.", "atcoder",
                            "2025-01-04T00:00:00")],
        "test6.jsonl": [row("abc999_a", "After v5", "A problem released after v5.", "atcoder", "2025-03-01T00:00:00")],
    }
    base = HERE / "livecodebench"
    base.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        (base / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    mbpp()
    bigcodebench()
    livecodebench()
