"""Run by test_resume in a subprocess: generate a fixed batch against the given server."""

from __future__ import annotations

import json
import sys

from kodcode.llm.client import response_store, run_requests
from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig
from kodcode.llm.request import Request


def batch(n: int) -> list[Request]:
    return [Request("solutions", f"q{i:04d}", s, "gpt-test", messages=(("user", f"task {i}"),), temperature=1.0,
                    seed=10_000 + 10 * i + s) for i in range(n // 2) for s in range(2)]


def batch_backend(base_url: str, store_root: str, n: int):
    """Batch mode (test_openai_batch): two batches of n/2 requests, polled every 50 ms."""
    from kodcode.llm.backends import make_backend

    return make_backend({"backend": "openai", "openai": {
        "base_url": base_url, "api_key_env": None, "mode": "batch", "batch_poll_s": 0.05,
        "batch_max_requests": max(1, n // 2), "max_retries": 2, "backoff_base_s": 0.01}}, store_root)


def main() -> None:
    base_url, store_root, out_path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    backend = OpenAIBackend(OpenAIConfig(base_url=base_url, api_key_env=None, concurrency=4))
    if sys.argv[5:] == ["batch"]:
        backend = batch_backend(base_url, store_root, n)
    responses, stats = run_requests(batch(n), backend, response_store(store_root), progress=False)
    with open(out_path, "w", encoding="utf-8") as fh:
        for r in responses:
            fh.write(json.dumps(r.to_dict(), sort_keys=True) + "\n")
    backend.close()


if __name__ == "__main__":
    main()
