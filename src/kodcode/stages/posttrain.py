"""Step 3: style conversion (instruct -> complete) and SFT reject sampling."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..jsonl import read_jsonl, write_jsonl
from ..parse import ParseError, parse_completion, parse_reasoning_answer, executable_tests
from ..templates import render
from ..testinfo import align_entry_point, top_level_functions
from .common import by_item, make_request, write_stats


def style_requests(subset: str, verified_file: str, out_requests: str, out_stats: str,
                   params: dict[str, Any]) -> None:
    template = params["template"]
    rows = []
    for q in read_jsonl(verified_file):
        prompt = render(template, question=q["question"], test=q["test"].strip(), solution=q["solution"].strip())
        req = make_request("style", q["question_id"], 0, params["model"], int(params["seed"]), user=prompt)
        rows.append({"request": req.to_dict(), "meta": {}})
    write_jsonl(out_requests, rows)
    write_stats(out_stats, "style_requests", subset=subset, requests=len(rows))


def _complete_id(instruct_id: str) -> str:
    return instruct_id[: -len("_I")] + "_C" if instruct_id.endswith("_I") else instruct_id + "_C"


def triplets(subset: str, verified_file: str, style_responses: str, out_triplets: str, out_stats: str) -> None:
    """Both styles of every verified question; a failed conversion drops only the complete one."""
    responses = {r["item_id"]: r for r in read_jsonl(style_responses)}
    out, dropped = [], Counter()
    for q in read_jsonl(verified_file):
        instruct = {**q, "metadata": {**q["metadata"], "original_instruction": ""}}
        out.append(instruct)
        r = responses.get(q["question_id"])
        try:
            if r is None or r.get("error"):
                raise ParseError("style conversion failed")
            completion = parse_completion(r["text"])
        except ParseError as exc:
            dropped[str(exc)] += 1
            continue
        out.append({**instruct, "style": "complete", "question_id": _complete_id(q["question_id"]),
                    "question": completion, "metadata": {**q["metadata"], "original_instruction": q["question"]}})
    write_jsonl(out_triplets, out)
    write_stats(out_stats, "triplets", subset=subset, instruct=sum(t["style"] == "instruct" for t in out),
                complete=sum(t["style"] == "complete" for t in out), dropped=dropped)


def sft_requests(subset: str, triplets_file: str, out_requests: str, out_stats: str, params: dict[str, Any]) -> None:
    rows = []
    for t in read_jsonl(triplets_file):
        for k in range(int(params["samples"])):
            req = make_request("sft", t["question_id"], k, params["model"], int(params["seed"]), user=t["question"])
            rows.append({"request": req.to_dict(), "meta": {}})
    write_jsonl(out_requests, rows)
    write_stats(out_stats, "sft_requests", subset=subset, requests=len(rows))


def sft_attempts(subset: str, triplets_file: str, responses_file: str, out_attempts: str, out_stats: str) -> None:
    """The code after ``</think>`` of each answer, renamed to the triplet's entry point when
    it defines one differently named function, set up to run against the triplet's tests."""
    trip = {t["question_id"]: t for t in read_jsonl(triplets_file)}
    out, errors = [], Counter()
    for r in read_jsonl(responses_file):
        t = trip[r["item_id"]]
        row = {"attempt_id": f"{r['item_id']}#{r['sample']}", "item_id": r["item_id"], "sample": r["sample"],
               "kind": "pytest", "solution": None, "test": t["test"], "tests": executable_tests(t["test"]),
               "parse_error": None, "response": r["text"]}
        try:
            if r.get("error"):
                raise ParseError(f"generation failed: {r['error']}")
            code = parse_reasoning_answer(r["text"])
            row["solution"] = align_entry_point(code, top_level_functions(t["solution"]))
        except ParseError as exc:
            row["parse_error"] = str(exc)
            errors[str(exc)] += 1
        out.append(row)
    write_jsonl(out_attempts, out)
    write_stats(out_stats, "sft_attempts", subset=subset, responses=len(out), parsed=len(out) - sum(errors.values()),
                unparseable=errors)


def sft_label(subset: str, triplets_file: str, attempts_file: str, verdicts_file: str, out_labeled: str,
              out_stats: str) -> None:
    attempts = by_item(read_jsonl(attempts_file))
    verdicts = {v["attempt_id"]: v for v in read_jsonl(verdicts_file)}
    out, correct = [], Counter()
    for t in read_jsonl(triplets_file):
        atts = attempts.get(t["question_id"], [])
        if not atts:
            continue
        seq = [1 if verdicts[a["attempt_id"]]["verdict"] == "pass" else 0 for a in atts]
        # the released answer: the first correct one, else the first answer
        pick = atts[seq.index(1)] if 1 in seq else atts[0]
        correct[str(bool(1 in seq))] += 1
        out.append({
            **t,
            "r1_pass_sequence": seq,
            "r1_pass_trial_num": sum(seq),
            "r1_correctness": "True" if 1 in seq else "False",
            "r1_solution": pick["solution"] or "",
            "conversations": [{"from": "user", "value": t["question"]},
                              {"from": "assistant", "value": pick["response"] or ""}],
        })
    write_jsonl(out_labeled, out)
    write_stats(out_stats, "sft_label", subset=subset, rows=len(out), r1_correct=correct)
