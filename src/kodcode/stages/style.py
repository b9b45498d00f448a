"""Step 3, first half (rules/style.smk): each verified question rewritten from the instruct style
into the complete style (signature + docstring), and the triplets of both styles."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..jsonl import read_jsonl, write_jsonl
from ..parse import ParseError, parse_completion
from ..templates import render
from .common import make_request, write_stats


def style_requests(subset: str, verified_file: str, out_requests: str, out_stats: str,
                   params: dict[str, Any]) -> None:
    """One conversion request per verified question, showing its solution and tests.
    ``params``: ``model`` (models.style), ``seed``, ``template``."""
    template = params["template"]
    rows = []
    for q in read_jsonl(verified_file):
        prompt = render(template, question=q["question"], test=q["test"].strip(), solution=q["solution"].strip())
        req = make_request("style", q["question_id"], 0, params["model"], int(params["seed"]), user=prompt)
        rows.append({"request": req.to_dict(), "meta": {}})
    write_jsonl(out_requests, rows)
    write_stats(out_stats, "style_requests", subset=subset, requests=len(rows))


def _complete_id(instruct_id: str) -> str:
    """``Leetcode_00000003_I`` -> ``Leetcode_00000003_C``: both styles of a question share its id."""
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

