"""The one LLM rule (rules/generate.smk): serve a shard's requests of any stage from the response
store, asking the configured backend only for what the store lacks."""

from __future__ import annotations

from typing import Any

from ..jsonl import read_jsonl, write_jsonl
from ..llm.backends import LazyBackend
from ..llm.client import response_store, run_requests
from ..llm.request import Request
from ..store import exit_on_store_error
from .common import log, write_stats


def generate(stage: str, subset: str, requests_file: str, out_responses: str, out_stats: str,
             llm_cfg: dict[str, Any], store_root: str) -> None:
    """``llm_cfg``: the ``llm`` section as the config check filled it in. This stage writes no
    default of its own: without ``max_failure_share`` (a bare backend section, as a test
    passes) run_requests' own applies."""
    budget = {"max_failure_share": float(llm_cfg["max_failure_share"])} if "max_failure_share" in llm_cfg else {}
    rows = read_jsonl(requests_file)
    requests = [Request.from_dict(r["request"]) for r in rows]
    store = response_store(store_root)
    backend = LazyBackend(llm_cfg, store_root)  # batch mode journals its paid batches in the store folder
    try:
        with exit_on_store_error():  # a vanished or full store: one line, not a traceback
            responses, stats = run_requests(requests, backend, store, **budget)
    finally:
        backend.close()
    out = []
    for row, req, resp in zip(rows, requests, responses):
        out.append({
            "stage": req.stage,
            "item_id": req.item_id,
            "sample": req.sample,
            "key": req.key,
            "text": resp.text,
            "finish_reason": resp.finish_reason,
            "error": resp.error,
            "meta": row.get("meta", {}),
        })
    write_jsonl(out_responses, out)
    log.info("%s/%s: %d requests, %d from the store, %d generated, %d failed, %d+%d tokens", subset, stage,
             stats.requests, stats.cache_hits, stats.generated, stats.failures, stats.prompt_tokens,
             stats.completion_tokens)
    write_stats(out_stats, f"generate_{stage}", subset=subset, backend=llm_cfg["backend"], **stats.to_dict())
