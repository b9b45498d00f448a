"""Step 3, second half (rules/sft.smk): SFT answers from a reasoning model for every triplet,
their code set up as attempts (run by stages.verify.execute), and each triplet labelled with
which answers pass (reject sampling)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..jsonl import read_jsonl, write_jsonl
from ..parse import ParseError, executable_tests, parse_reasoning_answer
from ..testinfo import align_entry_point, top_level_functions
from .common import by_item, make_request, write_stats


def sft_requests(subset: str, triplets_file: str, out_requests: str, out_stats: str, params: dict[str, Any]) -> None:
    """``sft.samples`` requests per triplet, the question as the user turn. ``params``: ``model``
    (models.reasoning), ``samples``, ``seed``."""
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
    """Each triplet with its answers' pass sequence and the released answer: the first passing
    one, else the first. A triplet without answers (none were requested for it) is left out."""
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
