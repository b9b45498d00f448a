"""rules/verify.smk (kodcode.stages.verify): attempts run in the sandbox, questions kept when an
attempt passes, pass@k. Real inputs: upstream KodCode's answers, verdicts and verified records
(../shared/fixtures), and the demo run's verdicts and pass@k (tests/data/paper_run)."""

from __future__ import annotations

from collections import Counter

import pytest

from kodcode.jsonl import read_json, read_jsonl, write_jsonl
from kodcode.stages.solutions import parse_solutions
from kodcode.stages.verify import execute, pass_at_k, verify
from kodcode import testinfo
from kodcode.verify import difficulty

from .records import (PAPER_RUN, upstream_questions, upstream_solution_answers, upstream_verdicts,
                      upstream_verified, write_rows)

TAG = "qwen2.5"  # upstream's trial names: trial_qwen2.5_<k>


@pytest.fixture
def step2(tmp_path, upstream):
    """Upstream's Step 2 as this workflow's files: questions, parsed attempts, upstream's verdicts."""
    questions = write_rows(tmp_path / "deduped.jsonl", upstream_questions())
    parse_solutions(subset="Leetcode", responses_file=write_rows(tmp_path / "responses.jsonl", upstream_solution_answers()),
                    out_attempts=str(tmp_path / "attempts.jsonl"), out_stats=str(tmp_path / "attempts.stats.json"))
    attempts = str(tmp_path / "attempts.jsonl")
    verdicts = write_rows(tmp_path / "verdicts.jsonl", upstream_verdicts(read_jsonl(attempts)))
    return {"questions": questions, "attempts": attempts, "verdicts": verdicts}


def _verify(tmp_path, files, attempts=3):
    verify(subset="Leetcode", in_questions=files["questions"], attempts_file=files["attempts"],
           verdicts_file=files["verdicts"], out_verified=str(tmp_path / "verified.jsonl"),
           out_stats=str(tmp_path / "verified.stats.json"),
           params={"attempts": attempts, "trial_tag": TAG, "file_source": "attempts_000.jsonl"})
    return {r["question_id"]: r for r in read_jsonl(tmp_path / "verified.jsonl")}, read_json(tmp_path / "verified.stats.json")


def test_upstream_verdicts_keep_the_questions_upstream_verified(tmp_path, step2):
    ours, stats = _verify(tmp_path, step2)
    theirs = upstream_verified()
    assert sorted(ours) == sorted(theirs) and len(ours) == 15
    for qid, up in theirs.items():
        row, m = ours[qid], up["metadata"]
        assert row["gpt_pass_sequence"] == m["pass_sequence"] and row["gpt_pass_trial_num"] == m["pass_trial_num"]
        for name, trial in m["trials"].items():  # every trial's verdict and coverage, under upstream's names
            assert (row["trials"][name]["test_result"], row["trials"][name]["test_coverage"]) == (
                trial["test_result"], trial["test_coverage"])
            assert row["trials"][name]["file_source"] == "attempts_000.jsonl"
        # the chosen trial passes with the highest coverage; upstream breaks a tie the other way
        chosen = row["trials"][row["chosen_trial"]]
        best = max(t["test_coverage"] for t in m["trials"].values() if t["test_result"] == "Pass")
        assert chosen["test_result"] == "Pass" and chosen["test_coverage"] == best
        if sum(t["test_result"] == "Pass" and t["test_coverage"] == best for t in m["trials"].values()) == 1:
            assert row["chosen_trial"] == m["chosen_trial"]
        assert (row["solution"], row["test"]) == (chosen["solution_code"], chosen["test_code"])
        assert row["test_info"] == testinfo.test_info(row["solution"]) and row["style"] == "instruct"
        assert row["gpt_difficulty"] == difficulty(sum(m["pass_sequence"]), 3)
    assert (stats["questions"], stats["verified"], stats["dropped"]) == (100, 15, {"no passing attempt": 85})
    assert stats["difficulty"] == dict(Counter(r["gpt_difficulty"] for r in ours.values()))


def test_a_question_missing_an_attempt_stops_verification(tmp_path, step2):
    rows = [a for a in read_jsonl(step2["attempts"]) if a["attempt_id"] != "Leetcode_00000012_I#1"]
    write_jsonl(step2["attempts"], rows)
    with pytest.raises(ValueError, match="Leetcode_00000012_I: expected 3 attempts, found 2"):
        _verify(tmp_path, step2)


def test_pass_at_k_reproduces_the_demo_runs(tmp_path, demo_config):
    verify_cfg = demo_config["verify"]
    for subset in ("Leetcode", "Algorithm", "Taco"):
        out = tmp_path / f"{subset}.json"
        pass_at_k(subset=subset, verdict_files=[str(PAPER_RUN / subset / "solutions" / "verdicts_000.jsonl")],
                  out_json=str(out), params={"ks": verify_cfg["pass_at_k"], "attempts": verify_cfg["attempts"]})
        recorded = read_json(PAPER_RUN / subset / "solutions" / "pass_at_k.json")
        assert read_json(out) == recorded
        # k above the attempts per question has no unbiased estimate: left out, not guessed
        assert "pass@5" not in recorded and "pass@3" in recorded


def test_execute_agrees_with_upstream_and_serves_a_rerun_from_the_store(tmp_path, step2, demo_config):
    from kodcode.executor.engines import bwrap_problem

    if bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {bwrap_problem()}")
    chosen = {"Leetcode_00000000_I", "Leetcode_00000012_I", "Leetcode_00000050_I"}  # 2 pass, 6 fail, 1 unparseable
    attempts = [a for a in read_jsonl(step2["attempts"]) if a["item_id"] in chosen]
    attempts_file = write_rows(tmp_path / "attempts_000.jsonl", attempts)
    params = {**{k: v for k, v in demo_config["executor"].items() if k != "workers"}, "workers": 1}

    def run(name):
        execute(subset="Leetcode", stage="solutions", attempts_file=attempts_file, out_verdicts=str(tmp_path / name),
                out_stats=str(tmp_path / f"{name}.stats.json"), params=params, store_root=str(tmp_path / "store"))
        return read_jsonl(tmp_path / name), read_json(tmp_path / f"{name}.stats.json")

    verdicts, stats = run("verdicts_000.jsonl")
    upstream = {v["attempt_id"]: v["verdict"] for v in upstream_verdicts(attempts)}
    assert [v["attempt_id"] for v in verdicts] == [a["attempt_id"] for a in attempts]
    assert {v["attempt_id"]: v["verdict"] for v in verdicts} == upstream
    unparseable = next(v for v in verdicts if v["verdict"] == "error")
    assert unparseable["reason"] == "unparseable: missing <|Test End|>" and unparseable["collected"] == 0
    assert all(v["coverage"] is not None and v["passed"] > 0 and v["failed"] == 0
               for v in verdicts if v["verdict"] == "pass")
    assert stats["verdicts"] == dict(Counter(upstream.values())) and stats["executed"] == 8

    again, stats = run("again.jsonl")
    assert again == verdicts and (stats["cached"], stats["executed"]) == (8, 0)  # the store answers a rerun
