"""Step 2, first half (rules/solutions.smk): solution+test prompts for each deduplicated question,
and each answer parsed into an attempt (solution and tests) for stages.verify to run."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from ..jsonl import read_jsonl, write_jsonl
from ..parse import ParseError, executable_tests, parse_solution_and_tests
from ..templates import render
from .common import make_request, write_sharded_requests, write_stats

STAGE = "solutions"


def solution_requests(subset: str, in_questions: str, out_paths: Sequence[str], out_stats: str,
                      params: dict[str, Any]) -> None:
    """``verify.attempts`` independent requests per question (each with its own seed), sharded by
    question id. ``params``: ``model`` (models.solution), ``attempts``, ``seed``, ``template``."""
    template = params["template"]
    attempts = int(params["attempts"])
    rows = []
    for q in read_jsonl(in_questions):
        prompt = render(template, question=q["question"])
        for k in range(attempts):  # independent samples: each attempt has its own seed
            rows.append((make_request(STAGE, q["question_id"], k, params["model"], int(params["seed"]), user=prompt),
                         {}))
    counts = write_sharded_requests(rows, out_paths)
    write_stats(out_stats, "solution_requests", subset=subset, requests=len(rows), per_shard=counts)


def parse_solutions(subset: str, responses_file: str, out_attempts: str, out_stats: str) -> None:
    """One attempt per answer: its solution and tests, or the reason it has none (``parse_error``,
    counted by its first words); an unparseable attempt stays in, to be counted as failed."""
    out, errors = [], Counter()
    for r in read_jsonl(responses_file):
        row = {"attempt_id": f"{r['item_id']}#{r['sample']}", "item_id": r["item_id"], "sample": r["sample"],
               "kind": "pytest", "solution": None, "test": None, "tests": None, "parse_error": None}
        try:
            if r.get("error"):
                raise ParseError(f"generation failed: {r['error']}")
            parsed = parse_solution_and_tests(r["text"])
            row.update(solution=parsed.solution, test=parsed.test, tests=executable_tests(parsed.test))
        except ParseError as exc:
            row["parse_error"] = str(exc)
            errors[str(exc).split(":")[0]] += 1
        out.append(row)
    write_jsonl(out_attempts, out)
    write_stats(out_stats, "parse_solutions", subset=subset, responses=len(out),
                parsed=len(out) - sum(errors.values()), unparseable=errors)

