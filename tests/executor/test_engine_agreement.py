"""Upstream's verdicts reproduced through the engine under test (KODCODE_TEST_ENGINE and
KODCODE_TEST_IMAGE, see conftest), on the fixture trials of ../shared/fixtures/upstream_demo.

Off unless KODCODE_TEST_AGREEMENT is set: to a number N (the first N trials upstream did not
time out) or to ``all`` (every trial, the 6 upstream time-outs included, 30 s each).
.ci/docker-stage runs it through the test-env image; bench/executor.py is the full
benchmark with bwrap (docs/executor.md, "Benchmark").
"""

from __future__ import annotations

import os

import pytest

from kodcode.executor import Attempt, Limits

from .conftest import ENGINE, IMAGE, requires_engine

WANTED = os.environ.get("KODCODE_TEST_AGREEMENT", "")
UPSTREAM_TIMEOUT = "Fail - Timed Out"
MIN_AGREEMENT = 99.0  # percent; bwrap agrees on 682 of 683 (docs/executor.md)

pytestmark = [requires_engine,
              pytest.mark.skipif(not WANTED, reason="set KODCODE_TEST_AGREEMENT=N or all to run")]


def label(verdict: str) -> str:
    return {"pass": "Pass", "timeout": UPSTREAM_TIMEOUT}.get(verdict, "Fail")


def test_engine_reproduces_upstream_verdicts(upstream):
    from kodcode.executor.pool import WorkerPool
    from kodcode.executor.service import execute

    rows = upstream("*_trials.jsonl")
    if WANTED != "all":
        rows = [r for r in rows if r["upstream_result"] != UPSTREAM_TIMEOUT][:int(WANTED)]
    attempts = [Attempt(f"{i}:{r['question_id']}:{r['trial']}", r["solution_code"], r["test_file"], "pytest")
                for i, r in enumerate(rows)]
    with WorkerPool(ENGINE, workers=2, image=IMAGE) as pool:
        results = execute(attempts, Limits(timeout_s=30), pool)
        mode = pool.hello.get("mode")
    assert all(r.engine == pool.engine for r in results)
    differ = [(a.attempt_id, r["upstream_result"], res.verdict, res.reason)
              for a, r, res in zip(attempts, rows, results) if label(res.verdict) != r["upstream_result"]]
    agreement = 100.0 * (len(rows) - len(differ)) / len(rows)
    print(f"{ENGINE} ({IMAGE}, mode {mode}): {len(rows) - len(differ)}/{len(rows)} = {agreement:.2f}% agree "
          f"with upstream")
    assert agreement >= MIN_AGREEMENT, "\n".join(f"{d}" for d in differ)
