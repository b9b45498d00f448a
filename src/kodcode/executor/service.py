"""Batch execution with a content-addressed verdict store.

A verdict is stored under the hash of everything that decides it: solution, tests, test
kind, limits and the engine's fingerprint. Rerunning a stage, or a later stage that needs
the same attempt, reads the stored verdict instead of executing again.
"""

from __future__ import annotations

import logging
import platform
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from ..hashing import content_hash
from ..store import ContentStore
from .base import Attempt, ExecResult, Limits

log = logging.getLogger(__name__)

NAMESPACE = "verdicts"


def engine_fingerprint(engine: str) -> dict[str, str]:
    import pytest

    return {
        "engine": engine,
        "python": sys.version.split()[0],
        "pytest": pytest.__version__,
        "platform": platform.machine(),
    }


def verdict_key(attempt: Attempt, limits: Limits, fingerprint: dict[str, str]) -> str:
    return content_hash({"attempt": attempt.content(), "limits": limits.to_dict(), "env": fingerprint})


def run_attempts(
    attempts: Sequence[Attempt],
    limits: Limits = Limits(),
    engine: str = "local",
    store: ContentStore | None = None,
    workers: int = 2,
) -> tuple[list[ExecResult], dict[str, int]]:
    """Execute (or look up) every attempt; returns results in order and counts."""
    from .local import run_one

    fp = engine_fingerprint(engine)
    keys = [verdict_key(a, limits, fp) for a in attempts]
    results: dict[str, ExecResult] = {}
    todo: dict[str, Attempt] = {}
    for a, k in zip(attempts, keys):
        if k in results or k in todo:
            continue
        rec = store.get(k) if store is not None else None
        if rec is not None:
            results[k] = ExecResult.from_dict(rec["result"])
        else:
            todo[k] = a
    counts = {"attempts": len(attempts), "cached": len(results), "executed": len(todo)}

    def work(item: tuple[str, Attempt]) -> tuple[str, ExecResult]:
        k, a = item
        res = run_one(a, limits)
        if store is not None:
            store.put(k, {"attempt": a.content(), "limits": limits.to_dict(), "env": fp, "result": res.to_dict()})
        return k, res

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for k, res in pool.map(work, todo.items()):
            results[k] = res
            log.info("executed %s: %s %s", k[:12], res.verdict, res.reason)
    return [results[k] for k in keys], counts
