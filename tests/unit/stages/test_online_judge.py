"""rules/online_judge.smk (kodcode.stages.online_judge): the stdin/stdout questions of KodCode V1.1.
Real inputs: the demo's authored tags and attempts (demo/responses/online_judge.yaml), the demo
run's deduplicated Leetcode questions (tests/data/paper_run, the questions verify keeps) and its
decontamination report; the attempts run in the executor's stdin/stdout mode."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow.parquet as pq
import pytest

from kodcode.executor.verdict import parse_stdio_cases
from kodcode.jsonl import read_json, read_jsonl
from kodcode.parse import ParseError
from kodcode.stages.online_judge import (STAGE, STYLE, TAG_STAGE, TagUnreadable, cases_json, oj_tag_requests,
                                         online_judge_id, online_judge_requests, parse_cases,
                                         parse_online_judge, parse_online_judge_answer, parse_tag,
                                         verify_online_judge)
from kodcode.stages.release import V1_COLUMNS, release_subset
from kodcode.stages.verify import execute
from kodcode.templates import load_template

from .records import PAPER_RUN, authored_responses, response_row, write_rows

S = "Leetcode"


def _answers(authored, stage, subset):
    return {r["item_id"] + f"/{r['sample']}": r["text"] for r in authored_responses(authored, stage, subset)}


# ---------------------------------------------------------------- tags


def test_the_demo_tags_say_yes_no_and_one_cannot_be_read(authored):
    tags = {}
    for subset in ("Leetcode", "Codeforces", "Filter"):
        for key, text in _answers(authored, TAG_STAGE, subset).items():
            try:
                tags[key] = parse_tag(text)
            except TagUnreadable as exc:
                tags[key] = str(exc)
    assert tags == {
        "Leetcode_00000000_I/0": True, "Leetcode_00000001_I/0": True, "Leetcode_00000002_I/0": True,
        "Codeforces_00000000_I/0": False,  # names min_flips and its signature
        "Codeforces_00000001_I/0": "no 'Online judge: yes/no' line",
        "Filter_00000000_I/0": True,  # "Online judge: **yes**": markdown emphasis is read through
    }


@pytest.mark.parametrize("text, expected", [
    ("Reason: names a class.\nOnline judge: no", False),
    ("ONLINE JUDGE: Yes.", True),
    ("**Online-judge:** no", False),
    ("Reason: fine\n\nOnline_judge: yes\n", True),
    ("Online judge: yes\nOnline judge: yes", True),
])
def test_tag_answers_in_other_spellings(text, expected):
    assert parse_tag(text) is expected


@pytest.mark.parametrize("text, finish, error, reason", [
    ("Online judge: yes\nOnline judge: no", "stop", None, "both yes and no"),
    ("Online judge: maybe", "stop", None, "no 'Online judge: yes/no' line"),
    ("Reason: the task asks for", "length", None, "no 'Online judge: yes/no' line (cut off at max_tokens)"),
    ("   ", "stop", None, "empty answer"),
    (None, None, "HTTP 500", "generation failed"),
    ("The judge said: yes", "stop", None, "no 'Online judge: yes/no' line"),
])
def test_unreadable_tags_name_their_reason(text, finish, error, reason):
    with pytest.raises(TagUnreadable) as exc:
        parse_tag(text, finish, error)
    assert str(exc.value) == reason


# ---------------------------------------------------------------- stdin/stdout answers


def test_every_demo_attempt_parses_into_cases_the_executor_reads(authored):
    attempts = {**_answers(authored, STAGE, "Leetcode"), **_answers(authored, STAGE, "Filter")}
    assert len(attempts) == 12
    for key, text in attempts.items():
        if key == "Leetcode_00000001_I/1":  # DELIBERATE: the cases never end
            with pytest.raises(ParseError, match=r"missing <\|Cases End\|>"):
                parse_online_judge_answer(text)
            continue
        answer = parse_online_judge_answer(text)
        assert "<|" not in answer.question and "Input" in answer.question and "```" not in answer.solution
        assert len(answer.cases) >= 5
        assert all(c.input.endswith("\n") and c.input.strip() and not c.input.startswith("\n") for c in answer.cases)
        assert parse_stdio_cases(cases_json(answer.cases)) == answer.cases  # the executor's own reader
    first = parse_online_judge_answer(attempts["Leetcode_00000000_I/0"]).cases[0]
    assert (first.input, first.output) == ("3 3\n1 3 1\n1 5 1\n4 2 1\n", "7\n")


def test_cases_in_fences_and_with_crlf_line_ends():
    section = "\r\n<|Input|>\r\n```\r\n1 2\r\n```\r\n<|Output|>\r\n```text\r\n3\r\n```\r\n<|Input|>\r\n\r\n<|Output|>\r\nnone\r\n"
    answer = parse_online_judge_answer("<|Question Begin|>Add.<|Question End|><|Solution Begin|>\n```python\n"
                                       "print(3)\n```\n<|Solution End|><|Cases Begin|>" + section + "<|Cases End|>")
    assert [(c.input, c.output) for c in answer.cases] == [("1 2\n", "3\n"), ("", "none\n")]


@pytest.mark.parametrize("section, reason", [
    ("", "no test cases"),
    ("Here are the cases:\n<|Input|>\n1\n<|Output|>\n1\n", "text before the first <|Input|>"),
    ("<|Input|>\n1\n2\n", "case 0: no <|Output|>"),
    ("<|Input|>\n1\n<|Output|>\n1\n<|Output|>\n2\n", "case 0: more than one <|Output|>"),
    ("<|Input|>\n1\n<|Output|>\n1\n<|Input|>\n2\n<|Output|>\n\n", "case 1: empty output"),
])
def test_bad_cases_name_what_is_wrong(section, reason):
    with pytest.raises(ParseError) as exc:
        parse_cases(section)
    assert str(exc.value) == reason


def test_online_judge_ids_sit_beside_their_question():
    assert online_judge_id("Leetcode_00000002_I") == "Leetcode_00000002_OJ"
    assert online_judge_id("Filter_x") == "Filter_x_OJ"


# ---------------------------------------------------------------- the stages on the demo's Leetcode questions


@pytest.fixture(scope="module")
def leetcode(tmp_path_factory, demo_config, authored):
    """The demo's verified Leetcode questions through tagging, requests, parsing, the stdin/stdout
    executor and the bookkeeping, as the rules call them (answers: the authored ones)."""
    from kodcode.executor.engines import bwrap_problem

    if bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {bwrap_problem()}")
    d = tmp_path_factory.mktemp("online_judge")
    f = lambda name: str(d / name)  # noqa: E731
    cfg, models = demo_config, demo_config["models"]
    verified = str(PAPER_RUN / S / "questions" / "deduped.jsonl")  # the three questions verify keeps

    def answered(requests_file, out):  # rule generate, with the authored backend's answers
        rows = [r["request"] for r in read_jsonl(requests_file)]
        missing = [f"{r['stage']}/{r['item_id']}/{r['sample']}" for r in rows
                   if f"{r['stage']}/{r['item_id']}/{r['sample']}" not in authored]
        assert not missing, f"requests without an authored answer: {missing}"
        return write_rows(d / out, [response_row(r["stage"], r["item_id"], r["sample"],
                                                 authored[f"{r['stage']}/{r['item_id']}/{r['sample']}"]) for r in rows])

    oj_tag_requests(subset=S, verified_file=verified, out_requests=f("tag_requests.jsonl"),
                    out_stats=f("tag_requests.stats.json"),
                    params={"model": models["style"], "seed": cfg["seed"], "template": load_template("online_judge_tag.txt")})
    online_judge_requests(subset=S, verified_file=verified, tag_responses=answered(f("tag_requests.jsonl"), "tags.jsonl"),
                          out_requests=f("requests.jsonl"), out_stats=f("requests.stats.json"),
                          params={"model": models["solution"], "attempts": cfg["verify"]["attempts"], "seed": cfg["seed"],
                                  "template": load_template("online_judge_convert.txt")})
    parse_online_judge(subset=S, responses_file=answered(f("requests.jsonl"), "responses.jsonl"),
                       out_attempts=f("attempts_000.jsonl"), out_stats=f("attempts.stats.json"))
    executor = {**{k: v for k, v in cfg["executor"].items() if k != "workers"}, "workers": 1}
    execute(subset=S, stage=STAGE, attempts_file=f("attempts_000.jsonl"), out_verdicts=f("verdicts.jsonl"),
            out_stats=f("verdicts.stats.json"), params=executor, store_root=f("store"))
    verify_online_judge(subset=S, verified_file=verified, attempts_file=f("attempts_000.jsonl"),
                        verdicts_file=f("verdicts.jsonl"), out_rows=f("rows.jsonl"), out_stats=f("rows.stats.json"),
                        params={"attempts": cfg["verify"]["attempts"], "trial_tag": cfg["verify"]["trial_tag"],
                                "version": cfg["online_judge"]["version"], "file_source": "attempts_000.jsonl"})
    return {"dir": d, "verified": verified, "executor": executor}


def test_each_verified_question_is_tagged_and_each_yes_asked_three_times(leetcode):
    d = leetcode["dir"]
    tags = read_jsonl(d / "tag_requests.jsonl")
    assert [(r["request"]["stage"], r["request"]["item_id"], r["request"]["sample"]) for r in tags] == [
        (TAG_STAGE, f"{S}_0000000{i}_I", 0) for i in range(3)]
    prompt = tags[0]["request"]["messages"][0]["content"]
    assert "Online judge: <yes or no>" in prompt and "Given an `m x n` grid" in prompt
    reqs = [r["request"] for r in read_jsonl(d / "requests.jsonl")]
    assert Counter(r["item_id"] for r in reqs) == {f"{S}_0000000{i}_I": 3 for i in range(3)}
    assert len({r["seed"] for r in reqs}) == 9  # each attempt from scratch, with its own seed
    stats = read_json(d / "requests.stats.json")
    assert (stats["tagged"], stats["eligible"], stats["requests"], stats["dropped"]) == (3, 3, 9, {})


def test_the_attempts_ran_in_stdio_mode_with_the_expected_verdicts(leetcode):
    d = leetcode["dir"]
    attempts = {a["attempt_id"]: a for a in read_jsonl(d / "attempts_000.jsonl")}
    assert {a["kind"] for a in attempts.values()} == {"stdio"}
    assert read_json(d / "attempts.stats.json")["unparseable"] == {"missing <|Cases End|>": 1}
    verdicts = {v["attempt_id"]: v for v in read_jsonl(d / "verdicts.jsonl")}
    assert {k: v["verdict"] for k, v in verdicts.items()} == {
        "Leetcode_00000000_I#0": "pass", "Leetcode_00000000_I#1": "fail", "Leetcode_00000000_I#2": "pass",
        "Leetcode_00000001_I#0": "fail", "Leetcode_00000001_I#1": "error", "Leetcode_00000001_I#2": "pass",
        "Leetcode_00000002_I#0": "pass", "Leetcode_00000002_I#1": "pass", "Leetcode_00000002_I#2": "pass"}
    assert all(v["kind"] == "stdio" for v in verdicts.values())
    # a case is a test: collected is the number of cases
    for aid, v in verdicts.items():
        if attempts[aid]["tests"]:
            assert v["collected"] == len(json.loads(attempts[aid]["tests"])["cases"])
    assert verdicts["Leetcode_00000000_I#1"]["reason"] == "4/5 cases passed; case_0: wrong output"
    assert verdicts["Leetcode_00000001_I#1"]["reason"] == "unparseable: missing <|Cases End|>"
    # a rerun is served from the verdict store
    execute(subset=S, stage=STAGE, attempts_file=str(d / "attempts_000.jsonl"), out_verdicts=str(d / "again.jsonl"),
            out_stats=str(d / "again.stats.json"), params=leetcode["executor"], store_root=str(d / "store"))
    stats = read_json(d / "again.stats.json")
    assert read_jsonl(d / "again.jsonl") == read_jsonl(d / "verdicts.jsonl") and stats["executed"] == 0


def test_the_rows_carry_the_verify_bookkeeping_of_their_attempts(leetcode):
    d = leetcode["dir"]
    rows = {r["question_id"]: r for r in read_jsonl(d / "rows.jsonl")}
    assert {k: (r["gpt_pass_sequence"], r["gpt_difficulty"], r["chosen_trial"]) for k, r in rows.items()} == {
        "Leetcode_00000000_OJ": ([1, 0, 1], "easy", "trial_gpt4o_0"),
        "Leetcode_00000001_OJ": ([0, 0, 1], "medium", "trial_gpt4o_2"),
        "Leetcode_00000002_OJ": ([1, 1, 1], "easy", "trial_gpt4o_0"),  # #2 passes too, with lower coverage
    }
    questions = {q["question_id"]: q for q in read_jsonl(leetcode["verified"])}
    attempts = {a["attempt_id"]: a for a in read_jsonl(d / "attempts_000.jsonl")}
    for row in rows.values():
        src = questions[row["source_question_id"]]
        best = attempts[f"{src['question_id']}#{row['chosen_trial'][-1]}"]
        assert (row["question"], row["solution"], row["test"]) == (best["question"], best["solution"], best["test"])
        assert (row["style"], row["version"], row["test_info"], row["subset"]) == (STYLE, "v1.1", [], S)
        assert row["metadata"] == {**src["metadata"], "original_instruction": src["question"]}
        assert row["trials"][row["chosen_trial"]]["test_result"] == "Pass"
        assert row["gpt_pass_percentage"] == round(sum(row["gpt_pass_sequence"]) / 3, 3)
    trials = rows["Leetcode_00000001_OJ"]["trials"]
    assert [t["test_result"] for t in trials.values()] == ["Fail", "Fail", "Pass"]
    assert trials["trial_gpt4o_1"]["test_code"] is None  # the unparseable attempt
    assert read_json(d / "rows.stats.json")["difficulty"] == {"easy": 2, "medium": 1}


def test_a_question_without_a_passing_attempt_is_dropped_and_counted(tmp_path):
    verified = write_rows(tmp_path / "verified.jsonl", [
        {"question_id": "Filter_00000000_I", "subset": "Filter", "question": "IPv4?", "metadata": {}}])
    attempts = write_rows(tmp_path / "attempts.jsonl", [
        {"attempt_id": f"Filter_00000000_I#{k}", "item_id": "Filter_00000000_I", "sample": k, "kind": "stdio",
         "question": "q", "solution": "print(1)", "test": "{}", "tests": "{}", "parse_error": None} for k in range(3)])
    verdicts = write_rows(tmp_path / "verdicts.jsonl", [
        {"attempt_id": f"Filter_00000000_I#{k}", "verdict": v, "coverage": 100.0}
        for k, v in enumerate(["fail", "timeout", "error"])])
    params = {"attempts": 3, "trial_tag": "gpt4o", "version": "v1.1", "file_source": "a"}
    verify_online_judge(subset="Filter", verified_file=verified, attempts_file=attempts, verdicts_file=verdicts,
                        out_rows=str(tmp_path / "rows.jsonl"), out_stats=str(tmp_path / "rows.stats.json"), params=params)
    assert read_jsonl(tmp_path / "rows.jsonl") == []
    assert read_json(tmp_path / "rows.stats.json")["dropped"] == {"no passing attempt": 1}
    with pytest.raises(ValueError, match="Filter_00000000_I: expected 4 attempts, found 3"):
        verify_online_judge(subset="Filter", verified_file=verified, attempts_file=attempts, verdicts_file=verdicts,
                            out_rows=str(tmp_path / "r.jsonl"), out_stats=str(tmp_path / "r.json"),
                            params={**params, "attempts": 4})


def test_tags_that_say_no_or_cannot_be_read_get_no_requests(tmp_path, authored, demo_config):
    questions = [{"question_id": f"Codeforces_0000000{i}_I", "subset": "Codeforces", "metadata": {},
                  "question": authored[f"questions/Codeforces_0000000{i}/0"]} for i in range(2)]
    questions.append({"question_id": "Codeforces_00000009_I", "subset": "Codeforces", "metadata": {}, "question": "x"})
    tags = authored_responses(authored, TAG_STAGE, "Codeforces")
    online_judge_requests(subset="Codeforces", verified_file=write_rows(tmp_path / "v.jsonl", questions),
                          tag_responses=write_rows(tmp_path / "tags.jsonl", tags), out_requests=str(tmp_path / "r.jsonl"),
                          out_stats=str(tmp_path / "r.stats.json"),
                          params={"model": demo_config["models"]["solution"], "attempts": 3, "seed": 1,
                                  "template": load_template("online_judge_convert.txt")})
    assert read_jsonl(tmp_path / "r.jsonl") == []
    stats = read_json(tmp_path / "r.stats.json")
    assert (stats["questions"], stats["tagged"], stats["eligible"]) == (3, 1, 0)
    assert stats["dropped"] == {"not an online-judge task": 1, "tag unparseable: no 'Online judge: yes/no' line": 1,
                                "tag unparseable: no answer": 1}


# ---------------------------------------------------------------- release


def test_the_release_adds_the_rows_with_their_version_and_their_question_decontamination(leetcode, tmp_path):
    d = leetcode["dir"]
    instruct = [{**q, "style": "instruct", "solution": "def f():\n    pass\n", "test": "def test_f():\n    f()\n",
                 "test_info": [], "gpt_pass_sequence": [1, 1, 1], "gpt_pass_trial_num": 3, "gpt_difficulty": "easy",
                 "gpt_pass_percentage": 1.0, "trials": {}, "chosen_trial": "trial_gpt4o_0"}
                for q in read_jsonl(leetcode["verified"])]
    triplets = write_rows(tmp_path / "triplets.jsonl", instruct)
    # the demo's report (no question contaminated), then one with Leetcode_00000001 contaminated
    report = read_jsonl(PAPER_RUN / S / "decontam" / "report.jsonl")
    marked = write_rows(tmp_path / "report.jsonl", [
        {**r, "contaminated": r["question_id"].startswith("Leetcode_00000001")} for r in report])
    for name, path, action in (("clean", str(PAPER_RUN / S / "decontam" / "report.jsonl"), "drop"),
                               ("drop", marked, "drop"), ("flag", marked, "flag")):
        out = tmp_path / f"{name}.parquet"
        release_subset(subset=S, triplet_files=[triplets], labeled_files=[triplets], out_v1=str(out),
                       out_sft=str(tmp_path / f"{name}_sft.parquet"), online_judge_files=[str(d / "rows.jsonl")],
                       params={"version": "v1.0", "trial_tag": "gpt4o", "attempts": 3, "decontam_report": path,
                               "decontam_action": action})
        table = pq.read_table(out)
        rows = {r["question_id"]: r for r in table.to_pylist()}
        oj = {k: r for k, r in rows.items() if r["style"] == STYLE}
        if name == "clean":
            assert table.column_names == V1_COLUMNS
            assert sorted(oj) == [f"{S}_0000000{i}_OJ" for i in range(3)]
            assert {r["version"] for r in oj.values()} == {"v1.1"}
            assert {r["version"] for k, r in rows.items() if k not in oj} == {"v1.0"}
            row = oj[f"{S}_00000002_OJ"]
            assert row["trials"][row["chosen_trial"]]["test_result"] == "Pass"
            assert parse_stdio_cases(row["test"])  # the released test is the executor's stdio JSON
            assert STYLE not in set(pq.read_table(tmp_path / "clean_sft.parquet").column("style").to_pylist())
        elif name == "drop":  # the contaminated question loses its instruct and its stdin/stdout row
            assert sorted(oj) == [f"{S}_00000000_OJ", f"{S}_00000002_OJ"] and f"{S}_00000001_I" not in rows
        else:
            assert {k: r["contaminated"] for k, r in oj.items()} == {
                f"{S}_00000000_OJ": False, f"{S}_00000001_OJ": True, f"{S}_00000002_OJ": False}
