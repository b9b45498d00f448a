"""rules/style.smk (kodcode.stages.style): each verified question rewritten into the complete
style, and the triplets of both styles. Real inputs: upstream KodCode's verified questions and
style conversion answers (../shared/fixtures)."""

from __future__ import annotations

from kodcode.hashing import derive_seed
from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.parse import parse_completion
from kodcode.stages.style import style_requests, triplets
from kodcode.templates import load_template, render

from .records import response_row, upstream_style_answers, upstream_verified_file, write_rows


def test_one_request_per_verified_question_showing_its_chosen_solution_and_tests(tmp_path, upstream, demo_config):
    verified = read_jsonl(upstream_verified_file(tmp_path))
    params = {"model": demo_config["models"]["style"], "seed": demo_config["seed"],
              "template": load_template("style_convert.txt")}
    style_requests(subset="Leetcode", verified_file=str(tmp_path / "verified.jsonl"),
                   out_requests=str(tmp_path / "requests.jsonl"), out_stats=str(tmp_path / "requests.stats.json"),
                   params=params)
    reqs = [Request.from_dict(r["request"]) for r in read_jsonl(tmp_path / "requests.jsonl")]
    assert [(r.item_id, r.sample) for r in reqs] == [(q["question_id"], 0) for q in verified]
    for q, r in zip(verified, reqs):
        prompt = r.messages[0][1]
        assert prompt == render(params["template"], question=q["question"], test=q["test"].strip(),
                                solution=q["solution"].strip())
        assert q["solution"].strip() in prompt and q["test"].strip() in prompt  # the chosen trial's code
        assert (r.stage, r.model, r.temperature) == ("style", params["model"]["model"], params["model"]["temperature"])
        assert r.seed == derive_seed(params["seed"], "style", q["question_id"], 0)
    assert read_json(tmp_path / "requests.stats.json")["requests"] == 15


def test_triplets_hold_both_styles_of_every_verified_question(tmp_path, upstream):
    verified = {q["question_id"]: q for q in read_jsonl(upstream_verified_file(tmp_path))}
    answers = upstream_style_answers()
    triplets(subset="Leetcode", verified_file=str(tmp_path / "verified.jsonl"),
             style_responses=write_rows(tmp_path / "responses.jsonl", answers),
             out_triplets=str(tmp_path / "triplets.jsonl"), out_stats=str(tmp_path / "triplets.stats.json"))
    rows = read_jsonl(tmp_path / "triplets.jsonl")
    assert len(rows) == 30
    text = {a["item_id"]: a["text"] for a in answers}
    for instruct, complete in zip(rows[::2], rows[1::2]):  # each question's two rows, side by side
        q = verified[instruct["question_id"]]
        assert instruct == {**q, "metadata": {**q["metadata"], "original_instruction": ""}}
        assert complete["question_id"] == q["question_id"][:-2] + "_C" and complete["style"] == "complete"
        assert complete["question"] == parse_completion(text[q["question_id"]])
        assert complete["metadata"]["original_instruction"] == q["question"]
        # the solution, tests and verdicts are the instruct question's: the rewrite changes the prompt only
        assert {k: v for k, v in complete.items() if k not in ("question_id", "style", "question", "metadata")} == \
            {k: v for k, v in q.items() if k not in ("question_id", "style", "question", "metadata")}
    assert read_json(tmp_path / "triplets.stats.json") == {
        "stage": "triplets", "subset": "Leetcode", "instruct": 15, "complete": 15, "dropped": {}}


def test_a_failed_conversion_drops_only_the_complete_row(tmp_path, upstream):
    upstream_verified_file(tmp_path)
    answers = upstream_style_answers()
    failed, garbled, missing = answers[0]["item_id"], answers[1]["item_id"], answers[2]["item_id"]
    answers[0] = response_row("style", failed, 0, None, error="timeout")
    answers[1] = response_row("style", garbled, 0, "def f():\n    pass\n")  # no completion markers
    del answers[2]
    triplets(subset="Leetcode", verified_file=str(tmp_path / "verified.jsonl"),
             style_responses=write_rows(tmp_path / "responses.jsonl", answers),
             out_triplets=str(tmp_path / "triplets.jsonl"), out_stats=str(tmp_path / "triplets.stats.json"))
    rows = read_jsonl(tmp_path / "triplets.jsonl")
    instruct = [r["question_id"] for r in rows if r["style"] == "instruct"]
    complete = {r["question_id"][:-2] for r in rows if r["style"] == "complete"}
    assert len(instruct) == 15 and {failed, garbled, missing} <= set(instruct)
    assert not {q[:-2] for q in (failed, garbled, missing)} & complete and len(complete) == 12
    stats = read_json(tmp_path / "triplets.stats.json")
    assert (stats["instruct"], stats["complete"], sum(stats["dropped"].values())) == (15, 12, 3)
    assert stats["dropped"]["style conversion failed"] == 2  # an error and a missing answer
