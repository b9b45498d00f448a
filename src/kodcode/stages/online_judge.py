"""Online-judge (stdin/stdout) questions, the KodCode V1.1 addition (rules/online_judge.smk).

Each verified question is tagged by a model: can it be posed as an online-judge problem? Not
when it names the function to write or gives its signature, asks for a class, or asks for code
to be debugged or reviewed (upstream's rule). For a tagged "yes", ``verify.attempts``
independent requests each ask, from scratch, for the question restated in stdin/stdout form,
a program and input/output test cases. The executor runs each program on its cases in its
stdin/stdout mode (attempt kind ``stdio``, the same verdict store as pytest attempts), and the
verify stage's bookkeeping (``stages.verify.judge``) gives the pass sequence, difficulty and
chosen trial. A question is released in this style, from its chosen attempt, when an attempt
passes; its ``test`` is the cases as JSON, the form the executor reads (docs/executor.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from ..executor.verdict import StdioCase
from ..jsonl import read_jsonl, write_jsonl
from ..parse import ParseError, _section, strip_fences
from ..templates import render
from .common import make_request, write_stats
from .verify import judged_columns, judged_questions

TAG_STAGE = "oj_tags"  # the request stage of the tagging answers (rule generate's {stage})
STAGE = "online_judge"  # the request stage of the stdin/stdout attempts, and their results folder
STYLE = "online_judge"  # the released `style` of these rows
ID_SUFFIX = "_OJ"  # Leetcode_00000002_I -> Leetcode_00000002_OJ

# ---------------------------------------------------------------- the tag


class TagUnreadable(ValueError):
    """A tagging answer that says neither yes nor no; the message is the counted reason."""


_VERDICT_LINE = re.compile(r"^[\s*_>#-]*online[\s_-]*judge[\s*_]*:[\s*_]*(yes|no)\b", re.I | re.M)


def parse_tag(text: str | None, finish_reason: str | None = None, error: str | None = None) -> bool:
    """True for "Online judge: yes", False for "no" (case, markdown emphasis and the separator
    between the words do not matter; the line may come anywhere). Raises TagUnreadable when the
    answer failed, has no such line, or has lines that disagree."""
    if error:
        raise TagUnreadable("generation failed")
    if not text or not text.strip():
        raise TagUnreadable("empty answer")
    answers = {m.lower() for m in _VERDICT_LINE.findall(text)}
    if not answers:
        more = " (cut off at max_tokens)" if finish_reason == "length" else ""
        raise TagUnreadable(f"no 'Online judge: yes/no' line{more}")
    if len(answers) > 1:
        raise TagUnreadable("both yes and no")
    return answers == {"yes"}


# ---------------------------------------------------------------- the stdin/stdout answer


@dataclass(frozen=True)
class OnlineJudgeAnswer:
    question: str
    solution: str
    cases: list[StdioCase]


_FENCED = re.compile(r"\A\s*```[^\n]*\n(.*?)\n?```\s*\Z", re.S)


def _case_text(raw: str) -> str:
    """A case's text without the marker's line end, trailing blank lines or a code fence."""
    m = _FENCED.match(raw)
    body = m.group(1) if m else raw
    return body.removeprefix("\n").rstrip()


def parse_cases(section: str) -> list[StdioCase]:
    """``<|Input|>`` ... ``<|Output|>`` ... pairs; an input gets one final newline (as a file
    piped to the program would have), an output is compared token by token (verdict.same_output)."""
    head, *chunks = section.split("<|Input|>")
    if head.strip():
        raise ParseError("text before the first <|Input|>")
    if not chunks:
        raise ParseError("no test cases")
    cases = []
    for i, chunk in enumerate(chunks):
        parts = chunk.split("<|Output|>")
        if len(parts) != 2:
            raise ParseError(f"case {i}: {'no' if len(parts) < 2 else 'more than one'} <|Output|>")
        given, expected = (_case_text(p) for p in parts)
        if not expected.strip():
            raise ParseError(f"case {i}: empty output")
        cases.append(StdioCase(input=given + "\n" if given else "", output=expected + "\n"))
    return cases


def parse_online_judge_answer(text: str | None) -> OnlineJudgeAnswer:
    """The question, program and cases of one answer; ParseError names what is missing."""
    if not text:
        raise ParseError("empty response")
    question = _section(text, "Question").strip()
    if not question:
        raise ParseError("empty question")
    solution = strip_fences(_section(text, "Solution"))
    if not solution.strip():
        raise ParseError("empty solution")
    return OnlineJudgeAnswer(question, solution, parse_cases(_section(text, "Cases")))


def cases_json(cases: Sequence[StdioCase]) -> str:
    """The cases as the executor's stdio tests (``{"cases": [{"input", "output"}, ...]}``)."""
    return json.dumps({"cases": [{"input": c.input, "output": c.output} for c in cases]}, ensure_ascii=False)


def online_judge_id(question_id: str) -> str:
    """``Leetcode_00000002_I`` -> ``Leetcode_00000002_OJ``: the row's id beside its question's."""
    return (question_id[: -len("_I")] if question_id.endswith("_I") else question_id) + ID_SUFFIX


# ---------------------------------------------------------------- the stage functions


def oj_tag_requests(subset: str, verified_file: str, out_requests: str, out_stats: str,
                    params: dict[str, Any]) -> None:
    """One tagging request per verified question. ``params``: ``model`` (models.style),
    ``seed``, ``template`` (online_judge_tag.txt)."""
    rows = []
    for q in read_jsonl(verified_file):
        prompt = render(params["template"], question=q["question"].strip())
        req = make_request(TAG_STAGE, q["question_id"], 0, params["model"], int(params["seed"]), user=prompt)
        rows.append({"request": req.to_dict(), "meta": {}})
    write_jsonl(out_requests, rows)
    write_stats(out_stats, "online_judge_tag_requests", subset=subset, requests=len(rows))


def online_judge_requests(subset: str, verified_file: str, tag_responses: str, out_requests: str,
                          out_stats: str, params: dict[str, Any]) -> None:
    """``attempts`` requests for each question tagged "yes". A question whose tag says no, or
    cannot be read, gets none; both are counted by reason. ``params``: ``model``
    (models.solution), ``attempts`` (verify.attempts), ``seed``, ``template``
    (online_judge_convert.txt)."""
    tags = {r["item_id"]: r for r in read_jsonl(tag_responses)}
    attempts = int(params["attempts"])
    rows, unreadable, eligible, ineligible = [], Counter(), 0, 0
    for q in read_jsonl(verified_file):
        r = tags.get(q["question_id"])
        try:
            if r is None:
                raise TagUnreadable("no answer")
            ok = parse_tag(r.get("text"), r.get("finish_reason"), r.get("error"))
        except TagUnreadable as exc:
            unreadable[str(exc)] += 1
            continue
        if not ok:
            ineligible += 1
            continue
        eligible += 1
        prompt = render(params["template"], question=q["question"].strip())
        for k in range(attempts):  # independent samples, each from scratch with its own seed
            req = make_request(STAGE, q["question_id"], k, params["model"], int(params["seed"]), user=prompt)
            rows.append({"request": req.to_dict(), "meta": {}})
    write_jsonl(out_requests, rows)
    tagged = eligible + ineligible
    write_stats(out_stats, "online_judge_requests", subset=subset, questions=tagged + sum(unreadable.values()),
                tagged=tagged, eligible=eligible, requests=len(rows), unparseable=unreadable,
                dropped=Counter({**({"not an online-judge task": ineligible} if ineligible else {}),
                                 **{f"tag unparseable: {k}": v for k, v in unreadable.items()}}))


def parse_online_judge(subset: str, responses_file: str, out_attempts: str, out_stats: str) -> None:
    """One stdio attempt per answer (``tests``: the cases as JSON, which is also the released
    ``test``), or the reason it has none; an unparseable attempt stays in and counts as failed."""
    out, errors = [], Counter()
    for r in read_jsonl(responses_file):
        row = {"attempt_id": f"{r['item_id']}#{r['sample']}", "item_id": r["item_id"], "sample": r["sample"],
               "kind": "stdio", "question": None, "solution": None, "test": None, "tests": None,
               "parse_error": None}
        try:
            if r.get("error"):
                raise ParseError(f"generation failed: {r['error']}")
            answer = parse_online_judge_answer(r["text"])
            tests = cases_json(answer.cases)
            row.update(question=answer.question, solution=answer.solution, test=tests, tests=tests)
        except ParseError as exc:
            row["parse_error"] = str(exc)
            errors[str(exc).split(":")[0]] += 1
        out.append(row)
    write_jsonl(out_attempts, out)
    write_stats(out_stats, "parse_online_judge", subset=subset, responses=len(out),
                parsed=len(out) - sum(errors.values()), unparseable=errors)


def verify_online_judge(subset: str, verified_file: str, attempts_file: str, verdicts_file: str, out_rows: str,
                        out_stats: str, params: dict[str, Any]) -> None:
    """The online-judge rows: for each question with attempts, the verify stage's bookkeeping
    (stages.verify.judge); kept when an attempt passes, from its chosen attempt. ``params``:
    ``attempts`` and ``trial_tag`` (verify.*), ``version`` (online_judge.version) and
    ``file_source`` (the attempts file, recorded in each trial)."""
    out: list[dict[str, Any]] = []
    dropped: Counter = Counter()
    difficulty: Counter = Counter()
    for q, judged in judged_questions(verified_file, attempts_file, verdicts_file, params, dropped, difficulty):
        best = judged.best
        out.append({
            "version": params["version"],
            "style": STYLE,
            "subset": q["subset"],
            "question_id": online_judge_id(q["question_id"]),
            "source_question_id": q["question_id"],  # for decontamination: its question's verdict
            "question": best["question"],
            "solution": best["solution"],
            "test": best["test"],
            "test_info": [],  # a program, not a function: nothing to call
            **judged_columns(judged),
            "metadata": {**q["metadata"], "original_instruction": q["question"]},
        })
    write_jsonl(out_rows, out)
    write_stats(out_stats, "verify_online_judge", subset=subset, questions=len(out) + sum(dropped.values()),
                verified=len(out), dropped=dropped, difficulty=difficulty)
