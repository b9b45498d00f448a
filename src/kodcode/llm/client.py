"""Serve a batch of requests: store hits first, the backend for the rest.

Every successful response is written to the content-addressed store the moment it
arrives (``store_runner.StoreRunner``), keyed by the request alone, so reruns, crashes
and changed downstream rules never pay for it again, whatever backend produced it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from ..progress import progress_bar
from ..store import ContentStore
from ..store_runner import StoreRunner
from .base import Backend, BackendFatalError
from .request import Request, Response

log = logging.getLogger(__name__)

NAMESPACE = "responses"


@dataclass
class GenerationStats:
    requests: int = 0
    cache_hits: int = 0
    generated: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self, seconds: float | None = None) -> str:
        line = (
            f"{self.requests} requests: {self.cache_hits} cache hits, {self.generated} generated, "
            f"{self.failures} failed, {self.retries} retries; tokens {self.prompt_tokens} prompt + "
            f"{self.completion_tokens} completion"
        )
        if seconds is not None and self.generated:
            line += f"; {seconds:.1f}s, {self.generated / max(seconds, 1e-9):.1f} req/s"
        return line


def response_store(root: str) -> ContentStore:
    return ContentStore(root, NAMESPACE)


def _store_record(req: Request, resp: Response, backend: str) -> dict[str, Any]:
    return {
        "request": req.canonical(),
        "stage": req.stage,
        "item_id": req.item_id,
        "backend": backend,
        "received_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "response": resp.to_dict(),
    }


def run_requests(
    requests: Sequence[Request],
    backend: Backend | None,
    store: ContentStore,
    max_failure_share: float = 0.05,
    progress: bool = True,
    background_writes: bool = True,
) -> tuple[list[Response], GenerationStats]:
    """Return one response per request, in order, and what it cost.

    ``backend`` may be None when everything is expected to be in the store; a miss then
    raises. Raises ``BackendFatalError`` when more than ``max_failure_share`` of the
    requests failed, after storing every success, and ``StoreError`` when the store cannot
    take them. With ``background_writes`` each success is handed to a writer thread as it
    arrives and written within moments; the call returns (or raises) only after all of
    them are on disk.
    """
    started = time.perf_counter()
    stats = GenerationStats(requests=len(requests))
    name = backend.name if backend is not None else "-"
    runner: StoreRunner[Request, Response] = StoreRunner(
        store, key_of=lambda req: req.key, load=lambda rec: Response(**rec["response"]),
        save=lambda req, resp: _store_record(req, resp, name) if resp.ok else None,
        background_writes=background_writes)
    batch = runner.lookup(requests)
    stats.cache_hits = batch.hits

    if batch.misses:
        if backend is None:
            raise BackendFatalError(f"{len(batch.misses)} requests are not in the store and no backend was given")
        bar = progress_bar(len(batch.misses), "generate", "req", enabled=progress)
        retries_before = int(getattr(backend, "retries", 0))

        def on_result(req: Request, resp: Response) -> None:  # after it is stored
            if resp.ok:
                stats.generated += 1
                stats.prompt_tokens += int(resp.usage.get("prompt_tokens", 0))
                stats.completion_tokens += int(resp.usage.get("completion_tokens", 0))
            else:
                stats.failures += 1
                log.warning("request %s failed: %s", req.label, resp.error)
            bar.update(1)

        try:
            runner.run(batch, backend.generate, on_result)
        except BaseException:
            bar.close()
            stats.retries = int(getattr(backend, "retries", 0)) - retries_before
            _report(stats, started, progress, prefix="stopped after ")
            raise
        bar.close()
        stats.retries = int(getattr(backend, "retries", 0)) - retries_before

    out = []
    for key in batch.keys:
        resp = batch.results.get(key)
        if resp is None:  # a backend that skipped a request counts it as failed
            resp = Response(text=None, error="backend returned no result")
            stats.failures += 1
        out.append(resp)
    _report(stats, started, progress)
    if requests and stats.failures / len(requests) > max_failure_share:
        raise BackendFatalError(
            f"{stats.failures} of {len(requests)} requests failed, more than llm.max_failure_share="
            f"{max_failure_share}; the {stats.generated} successes are stored and will not be requested again"
        )
    return out, stats


def _report(stats: GenerationStats, started: float, progress: bool, prefix: str = "") -> None:
    """The closing line of a generating job's log."""
    line = "generate: " + prefix + stats.summary(time.perf_counter() - started)
    if progress:
        print(line, file=sys.stderr, flush=True)
    else:
        log.info(line)
