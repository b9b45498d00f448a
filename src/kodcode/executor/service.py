"""Batch execution with a content-addressed verdict store.

A verdict is stored under the hash of everything that decides it: solution, tests, test
kind, limits and the engine's fingerprint (engine, worker code, Python, pytest, coverage
and installed packages, or the container image). Rerunning a stage, or a later stage that
needs the same attempt, reads the stored verdict instead of executing again; when every
verdict is stored, no worker is even started. Each verdict is stored the moment it is
known (``store_runner.StoreRunner``), so a killed batch keeps every finished attempt.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import math
import secrets
import threading
from typing import Callable, Sequence

from ..hashing import content_hash
from ..progress import progress_bar
from ..store import ContentStore
from ..store_runner import StoreRunner
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


def _unencodable(a: Attempt) -> str | None:
    """Why an attempt's text cannot be written as UTF-8 (a lone surrogate), or None."""
    for name, text in (("solution", a.solution), ("tests", a.tests)):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"the attempt's {name} is not valid text ({exc.reason} at character {exc.start}); it was not run"
    return None


def execute(attempts: Sequence[Attempt], limits: Limits, pool: WorkerPool,
            on_result: Callable[[int, ExecResult], None] | None = None) -> list[ExecResult]:
    """Run attempts on ``pool`` (no store); bad stdio specs become ``error`` without running.

    ``on_result(i, result)`` is called as soon as attempt ``i``'s verdict is known, from
    the pool's threads. If it raises, the pool stops handing out attempts (those running
    finish) and ``execute`` re-raises that error.
    """
    requests, timeouts, plans = [], [], []
    results: list[ExecResult | None] = [None] * len(attempts)

    def known(i: int, res: ExecResult) -> None:
        results[i] = res
        if on_result is not None:
            on_result(i, res)

    for i, a in enumerate(attempts):
        problem = _unencodable(a)
        if problem:  # e.g. a lone surrogate from a JSON escape: this attempt only, not the batch
            known(i, ExecResult(verdict="error", reason=problem, engine=pool.engine))
            continue
        req = {"id": str(i), "kind": a.kind, "solution": a.solution, "limits": limits.to_dict(), "seed": _seed(a)}
        expected = None
        canary = None
        if a.kind == "stdio":
            try:
                expected = parse_stdio_cases(a.tests)
            except ValueError as exc:
                known(i, ExecResult(verdict="error", reason=str(exc), engine=pool.engine))
                continue
            req["inputs"] = [c.input for c in expected]  # expected outputs never enter the sandbox
        elif a.kind == "pytest":
            canary = secrets.token_hex(8)
            req.update(tests=a.tests, canary=canary)
        else:
            known(i, ExecResult(verdict="error", reason=f"unknown test kind {a.kind!r}", engine=pool.engine))
            continue
        requests.append(req)
        timeouts.append(limits.timeout_s)
        plans.append((i, a, canary, expected))

    def finish(j: int, rep: dict) -> None:
        i, a, canary, expected = plans[j]
        known(i, decide(rep, engine=pool.engine, kind=a.kind, tests=a.tests, canary=canary, expected=expected))

    if on_result is None:
        for j, rep in enumerate(pool.run(requests, timeouts)):
            finish(j, rep)
    else:  # an on_result error stops the pool and is re-raised by run
        pool.run(requests, timeouts, on_result=finish)
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
    Each verdict is stored as soon as it is known, so a killed batch reruns only the
    attempts that had not finished; raises ``StoreError`` when the store cannot take them.
    """
    fp = engine_fingerprint(engine, image)
    runner: StoreRunner[Attempt, ExecResult] = StoreRunner(
        store, key_of=lambda a: verdict_key(a, limits, fp), load=lambda rec: ExecResult.from_dict(rec["result"]),
        # an attempt that is not valid text is not run, so there is nothing worth keeping
        save=lambda a, res: None if _unencodable(a) else {"attempt": a.content(), "limits": limits.to_dict(),
                                                            "env": fp, "result": res.to_dict()})
    batch = runner.lookup(attempts)
    counts = {"attempts": len(attempts), "cached": batch.hits, "executed": len(batch.misses)}
    if batch.misses:
        # a warm worker costs about a second of CPU to start, the time of ~30 attempts:
        # small batches start fewer workers than they may use, and warm them up lightly
        small = len(batch.misses) <= ATTEMPTS_PER_WORKER
        pool = get_pool(engine, min(workers, math.ceil(len(batch.misses) / ATTEMPTS_PER_WORKER)), preload, image,
                        small)

        def run(todo: list[Attempt], deliver: Callable[[Attempt, ExecResult], None]) -> None:
            execute(todo, limits, pool, on_result=lambda i, res: deliver(todo[i], res))

        bar = progress_bar(len(batch.misses), "execute", "attempt")

        def logged(a: Attempt, res: ExecResult) -> None:
            log.info("executed %s: %s %s", a.attempt_id, res.verdict, res.reason)
            bar.update(1)

        try:
            runner.run(batch, run, on_result=logged)
        finally:
            bar.close()
    return [batch.results[k] for k in batch.keys], counts
