"""Writes the demo's small Hugging Face-layout copies whose data files are binary (parquet,
arrow) or generated (apps' JSON-in-JSON columns), from the rows below.

The rows were written for this project; they are not taken from the real datasets. Only the
layout (folders, file names, README configs) and the column names follow the real sources.
Run from anywhere: ``python demo/sources/make_copies.py`` (rewrites the files in place).
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets

HERE = Path(__file__).resolve().parent


def parquet(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows).to_parquet(str(path))


def readme(path: Path, configs: list[tuple[str, list[tuple[str, str]]]]) -> None:
    lines = ["---", "configs:"]
    for name, files in configs:
        lines += [f"- config_name: {name}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {pattern}" for split, pattern in files]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n---\n\nDemo copy written for the KodCode workflow.\n")


def codeforces() -> None:  # open-r1/codeforces: data/{train,test}-*.parquet
    base = HERE / "codeforces"
    ex = lambda i, o: [{"input": i, "output": o}]  # noqa: E731
    rows = [
        {"id": "2901/A", "contest_id": "2901", "index": "A", "title": "Lamp Row", "description":
            "There are $n$ lamps in a row, some on and some off. In one move you may toggle two adjacent lamps. "
            "Determine whether all lamps can be switched off.", "input_format": "The first line contains $n$ "
            "($2 \\le n \\le 2\\cdot10^5$); the second a string of $n$ characters 0 or 1.",
         "output_format": "Print YES or NO.", "note": None, "examples": ex("3\n110\n", "YES\n"), "rating": 900,
         "tags": ["greedy"], "time_limit": 1.0, "memory_limit": 256.0},
        {"id": "2901/B", "contest_id": "2901", "index": "B", "title": "Balanced Teams", "description":
            "Split $2k$ players with given skills into two teams of $k$ so that the difference between the "
            "teams' total skill is as small as possible, and print that difference.",
         "input_format": "The first line contains $k$; the second $2k$ integers.", "output_format":
            "Print one integer.", "note": None, "examples": ex("1\n3 5\n", "2\n"), "rating": 1400,
         "tags": ["dp"], "time_limit": 2.0, "memory_limit": 256.0},
        {"id": "2901/C", "contest_id": "2901", "index": "C", "title": "Interactive Guess", "description": None,
         "input_format": None, "output_format": None, "note": "Statement not available.",
         "examples": [], "rating": None, "tags": ["interactive"], "time_limit": 1.0, "memory_limit": 256.0},
    ]
    parquet(base / "data" / "train-00000-of-00001.parquet", rows)
    parquet(base / "data" / "test-00000-of-00001.parquet", rows[:1])
    readme(base / "README.md", [("default", [("train", "data/train-*"), ("test", "data/test-*")])])


def apps() -> None:  # codeparrot/apps: train.jsonl / test.jsonl at the root (plus a loading script)
    base = HERE / "apps"
    base.mkdir(exist_ok=True)
    rows = [
        {"problem_id": 0, "question": "Given a list of $n$ integers, print the length of the longest "
            "strictly increasing contiguous run.\n\n-----Input-----\n\nThe first line contains $n$, the second "
            "the integers.\n\n-----Output-----\n\nPrint one integer.", "solutions": json.dumps(["print(1)"]),
         "input_output": json.dumps({"inputs": ["3\n1 2 2\n"], "outputs": ["2\n"]}), "difficulty": "introductory",
         "url": "https://example.org/problem/0", "starter_code": ""},
        {"problem_id": 1, "question": "Write a function `rotate_word(word, k)` that shifts every letter of "
            "`word` forward by `k` positions in the alphabet, wrapping around from z to a.",
         "solutions": json.dumps([]), "input_output": json.dumps({"fn_name": "rotate_word", "inputs": [["abz", 1]],
                                                                  "outputs": ["bca"]}),
         "difficulty": "interview", "url": "https://example.org/problem/1", "starter_code": "def rotate_word(word, k):\n"},
        {"problem_id": 2, "question": "   ", "solutions": "[]", "input_output": "{}", "difficulty": "interview",
         "url": "https://example.org/problem/2", "starter_code": ""},
    ]
    (base / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (base / "test.jsonl").write_text(json.dumps({**rows[0], "problem_id": 3000}) + "\n")


def taco() -> None:  # BAAI/TACO: train/ and test/ hold arrow files
    base = HERE / "taco"
    rows = [
        {"question": "A robot starts at the origin and follows a string of moves U, D, L, R. Print the number "
            "of distinct cells it visits, including the origin.", "solutions": json.dumps(["print(1)"]),
         "starter_code": "", "input_output": json.dumps({"inputs": ["UD\n"], "outputs": ["2\n"]}),
         "difficulty": "EASY", "raw_tags": "['Simulation']", "name": None, "source": "demo", "tags": "['Simulation']",
         "skill_types": "[]", "url": "https://example.org/taco/0", "Expected Auxiliary Space": None,
         "time_limit": None, "date": None, "picture_num": None, "memory_limit": None,
         "Expected Time Complexity": None},
        {"question": "Given an array arr of N integers, return the maximum product of any two distinct "
            "elements.\nYour Task: complete the function maxProduct() which takes arr and N and returns the answer.",
         "solutions": json.dumps([]), "starter_code": "class Solution:\n    def maxProduct(self, arr, n):\n",
         "input_output": json.dumps({"fn_name": "maxProduct", "inputs": [[[1, 5, 3], 3]], "outputs": [15]}),
         "difficulty": "EASY", "raw_tags": "['Arrays']", "name": None, "source": "demo", "tags": "['Arrays']",
         "skill_types": "[]", "url": "https://example.org/taco/1", "Expected Auxiliary Space": "O(1)",
         "time_limit": None, "date": None, "picture_num": "0", "memory_limit": None,
         "Expected Time Complexity": "O(N)"},
    ]
    for split, part in (("train", rows), ("test", rows[:1])):
        folder = base / split
        folder.mkdir(parents=True, exist_ok=True)
        ds = datasets.Dataset.from_list(part)
        ds.save_to_disk(str(folder.parent / f".{split}-tmp"))
        src = folder.parent / f".{split}-tmp" / "data-00000-of-00001.arrow"
        src.replace(folder / "data-00000-of-00001.arrow")
        for f in (folder.parent / f".{split}-tmp").iterdir():
            f.unlink()
        (folder.parent / f".{split}-tmp").rmdir()


def code_contests() -> None:  # deepmind/code_contests: data/{train,valid,test}-*.parquet
    base = HERE / "code_contests"
    tests = lambda i, o: {"input": [i], "output": [o]}  # noqa: E731
    rows = [
        {"name": "demo_001 Pair Sums", "description": "You are given $n$ integers and a target $t$. Count the "
            "pairs $i < j$ with $a_i + a_j = t$.\n\nInput\n\nThe first line holds $n$ and $t$, the second the "
            "integers.\n\nOutput\n\nPrint the number of pairs.", "public_tests": tests("3 4\n1 3 3\n", "2\n"),
         "private_tests": tests("1 2\n1\n", "0\n"), "generated_tests": tests("2 2\n1 1\n", "1\n"), "source": 2,
         "difficulty": 7, "solutions": {"language": [3], "solution": ["print(0)"]},
         "incorrect_solutions": {"language": [], "solution": []}, "cf_contest_id": 0, "cf_index": "",
         "cf_points": 0.0, "cf_rating": 0, "cf_tags": [], "is_description_translated": False,
         "untranslated_description": "", "time_limit": {"seconds": 2, "nanos": 0}, "memory_limit_bytes": 256000000,
         "input_file": "", "output_file": ""},
        {"name": "demo_002 Bracket Depth", "description": "Given a balanced bracket string, print the maximum "
            "nesting depth.\n\nInput\n\nOne line with the string.\n\nOutput\n\nOne integer.",
         "public_tests": tests("(())()\n", "2\n"), "private_tests": tests("()\n", "1\n"),
         "generated_tests": tests("((()))\n", "3\n"), "source": 2, "difficulty": 7,
         "solutions": {"language": [3], "solution": ["print(1)"]},
         "incorrect_solutions": {"language": [], "solution": []}, "cf_contest_id": 0, "cf_index": "",
         "cf_points": 0.0, "cf_rating": 0, "cf_tags": [], "is_description_translated": False,
         "untranslated_description": "", "time_limit": {"seconds": 1, "nanos": 0}, "memory_limit_bytes": 256000000,
         "input_file": "", "output_file": ""},
    ]
    parquet(base / "data" / "train-00000-of-00001-0a1b2c3d4e5f6789.parquet", rows)
    parquet(base / "data" / "valid-00000-of-00001-89abcdef01234567.parquet", rows[1:])
    readme(base / "README.md", [("default", [("train", "data/train-*"), ("valid", "data/valid-*")])])


def opc_sft_stage2() -> None:  # OpenCoder-LLM/opc-sft-stage2: one folder per config
    base = HERE / "opc-sft-stage2"
    package = [
        {"instruction": "Write a function `summarise_csv(path)` that uses the `csv` module to read a file with a "
            "header row and returns a dict mapping each numeric column to its mean.", "output": "...",
         "tag": "package_instruct"},
        {"instruction": "Using `pathlib`, write `largest_files(folder, n)` that returns the names of the n largest "
            "regular files under folder, searched recursively, largest first.", "output": "...",
         "tag": "package_instruct"},
        {"instruction": "Create a function `to_weekday_counts(dates)` that takes ISO date strings and uses "
            "`collections.Counter` and `datetime` to count how many fall on each weekday.", "output": "...",
         "tag": "package_instruct"},
        {"instruction": "", "output": "...", "tag": "package_instruct"},
    ]
    evol = [
        {"instruction": "Extend a function that merges two sorted lists so that it merges k sorted lists in "
            "O(N log k) time, where N is the total number of elements.", "output": "...", "tag": "evol_instruct"},
        {"instruction": "Rewrite a recursive Fibonacci function so that it handles n up to 10**5 without hitting "
            "the recursion limit and returns the result modulo 1_000_000_007.", "output": "...", "tag": "evol_instruct"},
        {"instruction": "Modify a word-count function so that it ignores punctuation and case, and returns the "
            "three most frequent words with ties broken alphabetically.", "output": "...", "tag": "evol_instruct"},
    ]
    # not a seed source: Fig. 4's Educational-Instruct baseline set
    educational = [{"seq_id": i, "instruction": text, "output": "...", "code": "...", "entry_point": "...",
                    "testcase": "[]"} for i, text in enumerate([
        "Write a python function to count the vowels in a given string.",
        "Write a function to find the second largest number in a list of integers.",
        "Write a python function to check whether a number is a perfect square without using math.sqrt.",
        "Write a function that returns the length of the longest run of equal characters in a string.",
        "Write a python function to rotate a list to the right by k positions.",
        "Write a function to convert a Roman numeral to an integer.",
    ])]
    parquet(base / "package_instruct" / "train-00000-of-00001.parquet", package)
    parquet(base / "evol_instruct" / "train-00000-of-00001.parquet", evol)
    parquet(base / "educational_instruct" / "train-00000-of-00001.parquet", educational)
    readme(base / "README.md", [("package_instruct", [("train", "package_instruct/train-*")]),
                                ("evol_instruct", [("train", "evol_instruct/train-*")]),
                                ("educational_instruct", [("train", "educational_instruct/train-*")])])


def magicoder_oss_instruct() -> None:  # ise-uiuc/Magicoder-OSS-Instruct-75K: one jsonl at the root
    base = HERE / "oss-instruct"
    problems = [
        ("python", "You are tasked with implementing a class `RateLimiter` that allows at most `n` calls per "
                   "`window` seconds. Implement `allow(timestamp)` returning True when a call is permitted."),
        ("python", "You are given a Python function that parses log lines of the form `LEVEL: message`. "
                   "Complete the function `count_levels(lines)` so that it returns a dict of counts per level."),
        ("rust", "You are tasked with writing a Rust function that reverses the words of a sentence in place."),
        ("python", "You are working on a data pipeline and need a function `chunked(iterable, size)` that yields "
                   "lists of at most `size` items. Implement it without loading the whole iterable."),
        ("java", "You are tasked with implementing a Java method that validates a binary search tree."),
        ("python", "You are given a snippet that reads a JSON configuration. Write `merge_configs(base, override)` "
                   "that merges nested dictionaries, with values from override taking precedence."),
        ("python", "You are tasked with creating a Python decorator `retry(times)` that re-runs a function when "
                   "it raises an exception, up to `times` attempts, and re-raises the last error."),
    ]
    base.mkdir(exist_ok=True)
    with open(base / "data-oss_instruct-decontaminated.jsonl", "w", encoding="utf-8") as fh:
        for i, (lang, problem) in enumerate(problems):
            fh.write(json.dumps({"lang": lang, "raw_index": i, "index": i, "seed": "...",
                                 "openai_fingerprint": "demo", "problem": problem, "solution": "..."}) + "\n")


def acecode() -> None:  # TIGER-Lab/AceCode-87K: data/train-*.parquet
    questions = [
        "You are given a list of integers representing daily temperatures. Write a function `warmer_days(temps)` "
        "that returns, for each day, how many days until a warmer temperature (0 if none).",
        "Implement a function `normalize_path(path)` that resolves `.` and `..` components of a Unix-style path "
        "and returns the canonical path.",
        "Write a function `group_anagrams(words)` that groups words that are anagrams of each other and returns the "
        "groups sorted by their first word.",
        "You need to implement `parse_duration(text)` that converts strings like '1h30m' or '45s' into a number of "
        "seconds.",
        "Write a function `flatten(nested)` that flattens an arbitrarily nested list of integers into a flat list.",
    ]
    rows = [{"id": f"demo_{i}", "source": "demo", "question": q, "test_cases": ["assert True"], "inferences": [],
             "context_messages": [{"role": "user", "content": q}]} for i, q in enumerate(questions)]
    parquet(HERE / "acecode" / "data" / "train-00000-of-00001.parquet", rows)


def magpie() -> None:  # Magpie-Align/Magpie-*-Pro-*: data/train-*.parquet
    base = HERE / "magpie"
    def row(uuid, instruction, category, quality):
        return {"uuid": uuid, "model": "demo", "instruction": instruction, "response": "...",
                "conversations": [{"from": "human", "value": instruction}, {"from": "gpt", "value": "..."}],
                "task_category": category, "other_task_category": [], "difficulty": "medium",
                "input_quality": quality, "language": "EN"}
    rows = [
        row("6f1c0d52-0000-4000-8000-000000000001", "Write a Python function that checks whether a string is a "
            "valid IPv4 address without using the ipaddress module.", "Coding & Debugging", "good"),
        row("6f1c0d52-0000-4000-8000-000000000002", "What are three things to see in Lisbon in one day?",
            "Information seeking", "average"),
        row("6f1c0d52-0000-4000-8000-000000000003", "How do I remove duplicates from a list in python while "
            "keeping the original order?", "Coding & Debugging", "good"),
        row("6f1c0d52-0000-4000-8000-000000000004", "Explain the difference between a process and a thread.",
            "Information seeking", "excellent"),
        row("6f1c0d52-0000-4000-8000-000000000005", "Implement an LRU cache class in Python with get and put in "
            "O(1) time.", "Coding & Debugging", "excellent"),
    ]
    parquet(base / "data" / "train-00000-of-00001.parquet", rows)
    readme(base / "README.md", [("default", [("train", "data/train-*")])])


if __name__ == "__main__":
    for make in (codeforces, apps, taco, code_contests, opc_sft_stage2, magpie, magicoder_oss_instruct, acecode):
        make()
