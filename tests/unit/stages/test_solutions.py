"""rules/solutions.smk (kodcode.stages.solutions): solution+test requests for every question,
and every answer parsed into an attempt. Real inputs: the demo run's deduplicated questions
(tests/data/paper_run) and answers (demo/responses, demo/archive.jsonl), and upstream KodCode's
answers from a small open model (../shared/fixtures)."""

from __future__ import annotations

from collections import Counter

from kodcode.hashing import derive_seed, shard_of
from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.parse import executable_tests
from kodcode.stages.solutions import parse_solutions, solution_requests
from kodcode.templates import load_template, render

from .records import (PAPER_RUN, archived_keys, authored_responses, response_row, upstream_solution_answers,
                      upstream_trials, write_rows)


def _requests(tmp_path, demo_config, subset, shards):
    outs = [str(tmp_path / f"requests_{i:03d}.jsonl") for i in range(shards)]
    params = {"model": demo_config["models"]["solution"], "attempts": demo_config["verify"]["attempts"],
              "seed": demo_config["seed"], "template": load_template("solution_and_tests.txt")}
    solution_requests(subset=subset, in_questions=str(PAPER_RUN / subset / "questions" / "deduped.jsonl"),
                      out_paths=outs, out_stats=str(tmp_path / "requests.stats.json"), params=params)
    return outs, params


def test_the_demo_questions_get_the_requests_the_recorded_answers_answer(tmp_path, demo_config):
    """With the demo config the stage asks exactly what demo/archive.jsonl holds answers to."""
    outs, _ = _requests(tmp_path, demo_config, "Leetcode", 1)
    keys = {Request.from_dict(r["request"]).key for r in read_jsonl(outs[0])}
    assert len(keys) == 3 * 3 and keys <= archived_keys()


def test_each_question_gets_independent_attempts_in_one_shard(tmp_path, demo_config):
    outs, params = _requests(tmp_path, demo_config, "Taco", 3)
    questions = {q["question_id"]: q["question"] for q in read_jsonl(PAPER_RUN / "Taco" / "questions" / "deduped.jsonl")}
    n = params["attempts"]
    rows = [(i, Request.from_dict(r["request"])) for i, out in enumerate(outs) for r in read_jsonl(out)]
    assert sorted((r.item_id, r.sample) for _, r in rows) == sorted((q, k) for q in questions for k in range(n))
    model = params["model"]
    for shard, r in rows:
        assert shard == shard_of(r.item_id, 3)  # all attempts of a question meet in one shard (rule verify)
        assert r.messages == (("user", render(params["template"], question=questions[r.item_id])),)
        assert r.seed == derive_seed(params["seed"], "solutions", r.item_id, r.sample)
        assert (r.model, r.temperature, r.top_p, r.max_tokens) == (
            model["model"], model["temperature"], model["top_p"], model["max_tokens"])
    assert len({r.seed for _, r in rows}) == len(rows)  # independent samples, not one answer three times
    stats = read_json(tmp_path / "requests.stats.json")
    assert stats["requests"] == len(questions) * n == sum(stats["per_shard"])


def test_upstream_answers_parse_into_the_attempts_upstream_ran(tmp_path, upstream):
    answers = upstream_solution_answers()
    responses = write_rows(tmp_path / "responses_000.jsonl", answers)
    parse_solutions(subset="Leetcode", responses_file=responses, out_attempts=str(tmp_path / "attempts.jsonl"),
                    out_stats=str(tmp_path / "attempts.stats.json"))
    attempts = read_jsonl(tmp_path / "attempts.jsonl")
    assert [(a["item_id"], a["sample"]) for a in attempts] == [(r["item_id"], r["sample"]) for r in answers]
    assert all(a["attempt_id"] == f"{a['item_id']}#{a['sample']}" and a["kind"] == "pytest" for a in attempts)
    ran = upstream_trials()
    # the one answer upstream could not run either (299 of 300 ran) is the one without a test end marker
    unparseable = [(a["item_id"], a["sample"]) for a in attempts if a["parse_error"]]
    assert unparseable == [k for k in ((a["item_id"], a["sample"]) for a in attempts) if k not in ran]
    assert len(unparseable) == 1
    for a in attempts:
        if a["parse_error"]:
            assert a["solution"] is None and a["tests"] is None  # rule execute marks it error, unrun
        else:
            assert a["solution"].strip() and a["tests"] == executable_tests(a["test"])
            assert a["tests"].startswith("from solution import *")
    stats = read_json(tmp_path / "attempts.stats.json")
    assert (stats["responses"], stats["parsed"], stats["unparseable"]) == (300, 299, {"missing <|Test End|>": 1})


def test_the_demos_planted_unparseable_answer_and_a_failed_generation_are_counted(tmp_path, authored):
    rows = authored_responses(authored, "solutions", "Leetcode")
    rows.append(response_row("solutions", "Leetcode_00000009_I", 0, None, error="HTTP 500 after 8 retries"))
    parse_solutions(subset="Leetcode", responses_file=write_rows(tmp_path / "r.jsonl", rows),
                    out_attempts=str(tmp_path / "a.jsonl"), out_stats=str(tmp_path / "a.stats.json"))
    errors = {a["attempt_id"]: a["parse_error"] for a in read_jsonl(tmp_path / "a.jsonl") if a["parse_error"]}
    assert errors == {"Leetcode_00000000_I#2": "missing <|Test End|>",
                      "Leetcode_00000009_I#0": "generation failed: HTTP 500 after 8 retries"}
    stats = read_json(tmp_path / "a.stats.json")
    assert stats["unparseable"] == dict(Counter({"missing <|Test End|>": 1, "generation failed": 1}))
    assert stats["parsed"] == len(rows) - 2
