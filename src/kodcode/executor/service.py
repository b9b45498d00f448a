"""Batch execution with a content-addressed verdict store.

A verdict is stored under the hash of everything that decides it: solution, tests, test
kind, limits and the engine's fingerprint (engine, worker code, Python, pytest, coverage
and installed packages, or the container image). Rerunning a stage, or a later stage that
needs the same attempt, reads the stored verdict instead of executing again; when every
verdict is stored, no worker is even started.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import math
import secrets
import threading
from typing import Sequence

from ..hashing import content_hash
from ..store import ContentStore
from . import engines
from .base import Attempt, ExecResult, Limits
from .pool import DEFAULT_PRELOAD, WorkerPool
from .verdict import decide, parse_stdio_cases

log = logging.getLogger(__name__)

NAMESPACE = "verdicts"

_POOLS: dict[tuple, WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def engine_fingerprint(engine: str, image: str | None = None) -> dict[str, str]:
    """Fingerprint of the resolved engine (raises EngineUnavailable like ``resolve``)."""
    return engines.fingerprint(engines.resolve(engine, image), image)


def verdict_key(attempt: Attempt, limits: Limits, fingerprint: dict[str, str]) -> str:
    return content_hash({"attempt": attempt.content(), "limits": limits.to_dict(), "env": fingerprint})


ATTEMPTS_PER_WORKER = 32


def get_pool(engine: str = "auto", workers: int = 2, preload: Sequence[str] | None = None,
             image: str | None = None, light_warm_up: bool = False) -> WorkerPool:
    """A warm pool shared by every call in this process with the same settings."""
    key = (engines.resolve(engine, image), max(1, workers), tuple(DEFAULT_PRELOAD if preload is None else preload), image,
           light_warm_up)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = WorkerPool(key[0], key[1], key[2], image, light_warm_up)
            _POOLS[key] = pool
        return pool


def shutdown_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


atexit.register(shutdown_pools)


def _seed(attempt: Attempt) -> int:
    return int(hashlib.sha256(repr(sorted(attempt.content().items())).encode()).hexdigest()[:8], 16)


def execute(attempts: Sequence[Attempt], limits: Limits, pool: WorkerPool) -> list[ExecResult]:
    """Run attempts on ``pool`` (no store); bad stdio specs become ``error`` without running."""
    requests, timeouts, plans = [], [], []
    results: list[ExecResult | None] = [None] * len(attempts)
    for i, a in enumerate(attempts):
        req = {"id": str(i), "kind": a.kind, "solution": a.solution, "limits": limits.to_dict(), "seed": _seed(a)}
        expected = None
        canary = None
        if a.kind == "stdio":
            try:
                expected = parse_stdio_cases(a.tests)
            except ValueError as exc:
                results[i] = ExecResult(verdict="error", reason=str(exc), engine=pool.engine)
                continue
            req["inputs"] = [c.input for c in expected]  # expected outputs never enter the sandbox
        elif a.kind == "pytest":
            canary = secrets.token_hex(8)
            req.update(tests=a.tests, canary=canary)
        else:
            results[i] = ExecResult(verdict="error", reason=f"unknown test kind {a.kind!r}", engine=pool.engine)
            continue
        requests.append(req)
        timeouts.append(limits.timeout_s)
        plans.append((i, a, canary, expected))
    replies = pool.run(requests, timeouts)
    for (i, a, canary, expected), reply in zip(plans, replies):
        results[i] = decide(reply, engine=pool.engine, kind=a.kind, tests=a.tests, canary=canary, expected=expected)
    return [r for r in results if r is not None]


def run_attempts(
    attempts: Sequence[Attempt],
    limits: Limits = Limits(),
    engine: str = "auto",
    store: ContentStore | None = None,
    workers: int = 2,
    image: str | None = None,
    preload: Sequence[str] | None = None,
) -> tuple[list[ExecResult], dict[str, int]]:
    """Execute (or look up) every attempt; returns results in order and counts.

    ``engine``: auto, bwrap, apptainer, docker or none (``local`` = none); ``image`` is the
    container image for apptainer/docker; ``preload`` the modules each warm worker imports.
    """
    fp = engine_fingerprint(engine, image)
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
    if todo:
        # a warm worker costs about a second of CPU to start, the time of ~30 attempts:
        # small batches start fewer workers than they may use, and warm them up lightly
        small = len(todo) <= ATTEMPTS_PER_WORKER
        pool = get_pool(engine, min(workers, math.ceil(len(todo) / ATTEMPTS_PER_WORKER)), preload, image, small)
        items = list(todo.items())
        for (k, a), res in zip(items, execute([a for _, a in items], limits, pool)):
            results[k] = res
            if store is not None:
                store.put(k, {"attempt": a.content(), "limits": limits.to_dict(), "env": fp, "result": res.to_dict()})
            log.info("executed %s: %s %s", k[:12], res.verdict, res.reason)
    return [results[k] for k in keys], counts
