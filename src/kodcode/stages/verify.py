"""Step 2, second half, and the SFT answers' execution (rules/verify.smk): run attempts in the
sandbox (solutions and sft), keep the questions with a passing attempt, and pass@k."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..executor import Attempt, Limits, run_attempts
from ..executor.service import NAMESPACE as VERDICTS
from ..jsonl import read_jsonl, write_jsonl
from ..store import ContentStore, exit_on_store_error
from ..testinfo import test_info
from ..verify import Verification, mean_pass_at_k, summarize
from .common import by_item, read_many, write_stats


def execute(subset: str, stage: str, attempts_file: str, out_verdicts: str, out_stats: str,
            params: dict[str, Any], store_root: str) -> None:
    """Run every parsed attempt; unparseable ones get an ``error`` verdict without running.
    ``params``: the ``executor`` section as the config check filled it in (engine, workers,
    limits; ``image`` and ``preload`` only when set: absent means no image and the default
    preload). Verdicts are stored under ``store_root``: an attempt seen before is not rerun."""
    rows = read_jsonl(attempts_file)
    runnable = [r for r in rows if not r.get("parse_error")]
    with exit_on_store_error():  # a vanished or full store: one line, not a traceback
        results, counts = run_attempts(
            [Attempt(r["attempt_id"], r["solution"], r["tests"], r.get("kind", "pytest")) for r in runnable],
            limits=Limits(**params["limits"]), engine=params["engine"], store=ContentStore(store_root, VERDICTS),
            workers=int(params["workers"]), image=params.get("image"), preload=params.get("preload"),
        )
    by_id = {r["attempt_id"]: res for r, res in zip(runnable, results)}
    out, verdicts = [], Counter()
    for r in rows:
        res = by_id.get(r["attempt_id"])
        rec = {"attempt_id": r["attempt_id"], "item_id": r["item_id"], "sample": r["sample"],
               "kind": r.get("kind", "pytest")}
        if res is None:
            rec.update(verdict="error", reason=f"unparseable: {r['parse_error']}", coverage=None, collected=0,
                       passed=0, failed=0, skipped=0)
        else:
            rec.update(verdict=res.verdict, reason=res.reason, coverage=res.coverage, collected=res.collected,
                       passed=len(res.passed), failed=len(res.failed), skipped=len(res.skipped))
        verdicts[rec["verdict"]] += 1
        out.append(rec)
    write_jsonl(out_verdicts, out)
    write_stats(out_stats, f"execute_{stage}", subset=subset, verdicts=verdicts, **counts)


def _trial_name(tag: str, k: int) -> str:
    return f"trial_{tag}_{k}"


@dataclass(frozen=True)
class Judged:
    """One question's attempts judged: the pass sequence, difficulty and chosen attempt
    (``summary``), every attempt as a released trial, and the chosen one (None: none passed)."""

    summary: Verification
    trials: dict[str, dict[str, Any]]
    best: dict[str, Any] | None
    chosen_trial: str | None


def judge(atts: Sequence[dict[str, Any]], verdicts: dict[str, dict[str, Any]], tag: str, source: str) -> Judged:
    """The bookkeeping of one question's attempts (each with ``attempt_id``, ``sample``,
    ``solution`` and ``test``), shared by the pytest and the stdin/stdout (online-judge) paths."""
    vs = [verdicts[a["attempt_id"]] for a in atts]
    summary = summarize([v["verdict"] == "pass" for v in vs], [v["coverage"] for v in vs])
    trials = {
        _trial_name(tag, a["sample"]): {
            "file_source": source,
            "solution_code": a["solution"],
            "test_code": a["test"],
            "test_coverage": v["coverage"],
            "test_result": "Pass" if v["verdict"] == "pass" else ("Fail - Timed Out" if v["verdict"] == "timeout" else "Fail"),
        }
        for a, v in zip(atts, vs)
    }
    best = None if summary.chosen is None else atts[summary.chosen]
    return Judged(summary, trials, best, None if best is None else _trial_name(tag, best["sample"]))


def judged_columns(judged: Judged) -> dict[str, Any]:
    """The released bookkeeping of one question's attempts (KodCode-V1's gpt_* and trial columns)."""
    s = judged.summary
    return {"gpt_pass_sequence": s.pass_sequence, "gpt_pass_trial_num": s.pass_trial_num,
            "gpt_difficulty": s.difficulty, "gpt_pass_percentage": s.pass_percentage,
            "trials": judged.trials, "chosen_trial": judged.chosen_trial}


def judged_questions(questions_file: str, attempts_file: str, verdicts_file: str, params: dict[str, Any],
                     dropped: Counter, difficulty: Counter) -> Iterator[tuple[dict[str, Any], Judged]]:
    """Each question of ``questions_file`` that has attempts here and a passing one, with its
    bookkeeping (``judge``); questions without a passing attempt are counted in ``dropped``,
    kept ones by difficulty. ``params``: ``attempts``, ``trial_tag`` and ``file_source``."""
    n, tag, source = int(params["attempts"]), params["trial_tag"], params["file_source"]
    attempts = by_item(read_jsonl(attempts_file))
    verdicts = {v["attempt_id"]: v for v in read_jsonl(verdicts_file)}
    for q in read_jsonl(questions_file):
        atts = attempts.get(q["question_id"])
        if atts is None:  # another shard's question (or, for the online judge, one not tagged)
            continue
        if len(atts) != n:
            raise ValueError(f"{q['question_id']}: expected {n} attempts, found {len(atts)}")
        judged = judge(atts, verdicts, tag, source)
        if judged.best is None:
            dropped["no passing attempt"] += 1
            continue
        difficulty[judged.summary.difficulty] += 1
        yield q, judged


def verify(subset: str, in_questions: str, attempts_file: str, verdicts_file: str, out_verified: str,
           out_stats: str, params: dict[str, Any]) -> None:
    """Aggregate attempts per question; keep questions with at least one passing attempt, with the
    passing attempt of highest coverage as the chosen trial. ``params``: ``attempts``
    (verify.attempts), ``trial_tag`` (verify.trial_tag) and ``file_source`` (recorded in each
    trial, as upstream records the file it ran)."""
    out: list[dict[str, Any]] = []
    dropped: Counter = Counter()
    difficulty: Counter = Counter()
    for q, judged in judged_questions(in_questions, attempts_file, verdicts_file, params, dropped, difficulty):
        best = judged.best
        out.append({
            **{k: q[k] for k in ("question_id", "subset", "question", "metadata")},
            "style": "instruct",
            "solution": best["solution"],
            "test": best["test"],
            "test_info": test_info(best["solution"]),
            **judged_columns(judged),
        })
    write_jsonl(out_verified, out)
    write_stats(out_stats, "verify", subset=subset, questions=len(out) + sum(dropped.values()), verified=len(out),
                dropped=dropped, difficulty=difficulty)


def pass_at_k(subset: str, verdict_files: Sequence[str], out_json: str, params: dict[str, Any]) -> None:
    """Mean pass@k over the subset's questions for each k of ``params["ks"]`` (verify.pass_at_k)
    that is at most ``params["attempts"]`` (a larger k has no unbiased estimate)."""
    per_q: dict[str, list[int]] = {}
    for v in read_many(verdict_files):
        per_q.setdefault(v["item_id"], []).append(1 if v["verdict"] == "pass" else 0)
    pairs = [(len(s), sum(s)) for s in per_q.values()]
    ks = [k for k in params["ks"] if k <= int(params["attempts"])]
    write_stats(out_json, "pass_at_k", subset=subset, questions=len(pairs), attempts=int(params["attempts"]),
                **mean_pass_at_k(pairs, ks))
