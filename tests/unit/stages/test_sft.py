"""rules/sft.smk (kodcode.stages.sft): reasoning-model answers for every triplet, their code set up
as attempts, and each triplet labelled by which answers pass. Real inputs: upstream KodCode's SFT
questions and DeepSeek-R1-style answers (../shared/fixtures)."""

from __future__ import annotations

from kodcode.hashing import derive_seed
from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.parse import ParseError, executable_tests, parse_reasoning_answer
from kodcode.stages.sft import sft_attempts, sft_label, sft_requests
from kodcode.testinfo import top_level_functions

from .records import upstream_sft, write_rows


def _attempts(tmp_path):
    trip, answers = upstream_sft()
    triplets_file = write_rows(tmp_path / "triplets.jsonl", trip)
    sft_attempts(subset="Leetcode", triplets_file=triplets_file,
                 responses_file=write_rows(tmp_path / "responses.jsonl", answers),
                 out_attempts=str(tmp_path / "attempts.jsonl"), out_stats=str(tmp_path / "attempts.stats.json"))
    return trip, answers, read_jsonl(tmp_path / "attempts.jsonl")


def test_every_triplet_gets_its_samples_with_the_question_as_the_prompt(tmp_path, upstream, demo_config):
    trip, _ = upstream_sft()
    params = {"model": demo_config["models"]["reasoning"], "samples": demo_config["sft"]["samples"],
              "seed": demo_config["seed"]}
    sft_requests(subset="Leetcode", triplets_file=write_rows(tmp_path / "triplets.jsonl", trip),
                 out_requests=str(tmp_path / "requests.jsonl"), out_stats=str(tmp_path / "requests.stats.json"),
                 params=params)
    reqs = [Request.from_dict(r["request"]) for r in read_jsonl(tmp_path / "requests.jsonl")]
    n = params["samples"]
    assert [(r.item_id, r.sample) for r in reqs] == [(t["question_id"], k) for t in trip for k in range(n)]
    questions = {t["question_id"]: t["question"] for t in trip}
    for r in reqs:
        assert r.messages == (("user", questions[r.item_id]),)  # the bare question, as upstream asked R1
        assert r.seed == derive_seed(params["seed"], "sft", r.item_id, r.sample)
        assert (r.model, r.max_tokens) == (params["model"]["model"], params["model"]["max_tokens"])
    assert len({r.key for r in reqs}) == len(reqs) == read_json(tmp_path / "requests.stats.json")["requests"]


def test_the_code_after_think_runs_against_the_triplets_tests(tmp_path, upstream):
    trip, answers, attempts = _attempts(tmp_path)
    by_id = {t["question_id"]: t for t in trip}
    assert [(a["item_id"], a["sample"]) for a in attempts] == [(r["item_id"], r["sample"]) for r in answers]
    renamed = 0
    for a, r in zip(attempts, answers):
        t = by_id[a["item_id"]]
        assert (a["test"], a["tests"], a["response"]) == (t["test"], executable_tests(t["test"]), r["text"])
        try:
            code = parse_reasoning_answer(r["text"])
        except ParseError as exc:
            assert a["solution"] is None and a["parse_error"] == str(exc)
            continue
        wanted, defined = top_level_functions(t["solution"]), top_level_functions(code)
        if len(wanted) == 1 and len(defined) == 1:
            # one function under another name: renamed so that the triplet's tests can import it
            assert top_level_functions(a["solution"]) == wanted
            renamed += defined != wanted
        else:
            assert a["solution"] == code
    assert renamed >= 1
    stats = read_json(tmp_path / "attempts.stats.json")
    assert (stats["responses"], stats["parsed"]) == (87, 77)
    assert stats["unparseable"] == {"no </think> (reasoning unfinished or truncated)": 1,
                                    "no python code block after </think>": 9}


def test_labels_record_each_answers_verdict_and_release_the_first_passing_one(tmp_path, upstream):
    trip, _, attempts = _attempts(tmp_path)
    patterns = [("fail", "fail", "fail"), ("fail", "pass", "pass"), ("pass", "error", "fail")]
    verdicts = {a["attempt_id"]: patterns[i // 3 % 3][a["sample"]] for i, a in enumerate(attempts)}
    write_rows(tmp_path / "verdicts.jsonl", [{"attempt_id": k, "verdict": v} for k, v in verdicts.items()])
    answered = [t for t in trip if t["question_id"] != trip[-1]["question_id"]]  # the last one got no answers
    write_rows(tmp_path / "attempts.jsonl", [a for a in attempts if a["item_id"] != trip[-1]["question_id"]])
    sft_label(subset="Leetcode", triplets_file=str(tmp_path / "triplets.jsonl"),
              attempts_file=str(tmp_path / "attempts.jsonl"), verdicts_file=str(tmp_path / "verdicts.jsonl"),
              out_labeled=str(tmp_path / "labeled.jsonl"), out_stats=str(tmp_path / "labeled.stats.json"))
    labeled = read_jsonl(tmp_path / "labeled.jsonl")
    assert [row["question_id"] for row in labeled] == [t["question_id"] for t in answered]
    by_item = {}
    for a in attempts:
        by_item.setdefault(a["item_id"], []).append(a)
    for t, row in zip(answered, labeled):
        atts = by_item[t["question_id"]]
        seq = [1 if verdicts[a["attempt_id"]] == "pass" else 0 for a in atts]
        pick = atts[seq.index(1)] if 1 in seq else atts[0]
        assert {k: row[k] for k in t} == t  # the triplet, unchanged
        assert (row["r1_pass_sequence"], row["r1_pass_trial_num"]) == (seq, sum(seq))
        assert row["r1_correctness"] == ("True" if 1 in seq else "False")
        assert row["r1_solution"] == (pick["solution"] or "")
        assert row["conversations"] == [{"from": "user", "value": t["question"]},
                                        {"from": "assistant", "value": pick["response"]}]
    stats = read_json(tmp_path / "labeled.stats.json")
    correct = sum(row["r1_correctness"] == "True" for row in labeled)
    assert stats["rows"] == 28 and stats["r1_correct"] == {"True": correct, "False": 28 - correct}
