"""Benchmark: our LLM client against a one-request-at-a-time client, same requests, one run.

Starts the project's fake OpenAI-compatible server (``kodcode.testing.fake_openai``) in a
subprocess on 127.0.0.1 with a fixed response delay, then sends the same N chat requests

1. through ``run_requests`` with the ``openai`` backend at its default concurrency and a
   fresh response store (every response written as it arrives), and
2. through a plain sequential client (one ``httpx.Client``, one request after the other,
   no store), which is how the upstream scripts call the API.

Prints requests/s for both, their ratio, and the store's cost per request (time spent in
store look-ups and writes during run 1, divided by N). The last line is
``RESULT speedup=<x> store_overhead_ms=<y>``.

    python bench/llm_client.py [--requests 128] [--delay 0.5] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from kodcode.llm.client import response_store, run_requests
from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig
from kodcode.llm.request import Request


class TimedStore:
    """Wraps a ContentStore and adds up the time spent in its look-ups and writes."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.seconds = 0.0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        # whatever else the client asks of a store (ensure_folders, path_for) is not timed
        return getattr(self.store, name)

    def get(self, key: str) -> Any:
        t = time.perf_counter()
        try:
            return self.store.get(key)
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1

    def put(self, key: str, record: dict[str, Any]) -> Any:
        t = time.perf_counter()
        try:
            return self.store.put(key, record)
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kodcode.testing.fake_openai", "--delay", str(delay)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"fake server did not start (said {base_url!r})")
    return proc, base_url


def make_requests(n: int) -> list[Request]:
    return [
        Request(stage="bench", item_id=f"q{i:06d}", sample=0, model="bench-model",
                messages=(("system", "You are a helpful coding assistant."), ("user", f"Write a python function to do task {i}.")),
                temperature=0.7, max_tokens=512, seed=1000 + i)
        for i in range(n)
    ]


def sequential(base_url: str, requests: list[Request]) -> tuple[float, list[str]]:
    shaper = OpenAIBackend(OpenAIConfig(base_url=base_url, api_key_env=None))
    texts = []
    t = time.perf_counter()
    with httpx.Client(timeout=60) as client:
        for req in requests:
            url, body = shaper.body_for(req)
            r = client.post(url, json=body)
            r.raise_for_status()
            texts.append(r.json()["choices"][0]["message"]["content"])
    return time.perf_counter() - t, texts


class NullStore:
    """Remembers nothing: the same client with the store taken out."""

    def get(self, key: str) -> None:
        return None

    def put(self, key: str, record: dict[str, Any]) -> bool:
        return True

    def ensure_folders(self) -> None:
        pass


def ours(base_url: str, requests: list[Request], concurrency: int, store: Any) -> tuple[float, list[str]]:
    backend = OpenAIBackend(OpenAIConfig(base_url=base_url, api_key_env=None, concurrency=concurrency))
    t = time.perf_counter()
    responses, stats = run_requests(requests, backend, store, progress=False)
    seconds = time.perf_counter() - t
    if stats.generated != len(requests):
        raise SystemExit(f"our client generated {stats.generated} of {len(requests)}: {stats}")
    return seconds, [r.text or "" for r in responses]


def store_cost(tmp: str, requests: list[Request], texts: list[str]) -> float:
    """Seconds per request for what the store adds to a request: one look-up that misses
    and one write of the full record, on a store whose folders exist (steady state)."""
    from kodcode.llm.client import _store_record
    from kodcode.llm.request import Response

    store = response_store(tmp)
    store.ensure_folders()
    records = [(r.key, _store_record(r, Response(text=t, finish_reason="stop", model=r.model,
                                                  usage={"prompt_tokens": 20, "completion_tokens": 2}), "openai"))
               for r, t in zip(requests, texts)]
    t0 = time.perf_counter()
    for key, rec in records:
        if store.get(key) is None:
            store.put(key, rec)
    return (time.perf_counter() - t0) / len(records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=128, help="requests per client (default 128)")
    parser.add_argument("--delay", type=float, default=0.5, help="server response delay in seconds (default 0.5)")
    parser.add_argument("--concurrency", type=int, default=OpenAIConfig.concurrency,
                        help=f"our client's concurrency (default: the backend default, {OpenAIConfig.concurrency})")
    args = parser.parse_args(argv)

    requests = make_requests(args.requests)
    warmup = make_requests(args.requests + args.concurrency)[args.requests:]
    proc, base_url = start_server(args.delay)
    try:
        with tempfile.TemporaryDirectory(prefix="kodcode-bench-") as tmp:
            ours(base_url, warmup, args.concurrency, NullStore())  # imports, TLS context
            timed = TimedStore(response_store(f"{tmp}/run"))
            timed.store.ensure_folders()  # a store in use has its folders: steady state
            t_ours, texts_ours = ours(base_url, requests, args.concurrency, timed)
            t_null, _ = ours(base_url, make_requests(args.requests + 2 * args.concurrency)[args.concurrency:][: args.requests],
                             args.concurrency, NullStore())
            t_seq, texts_seq = sequential(base_url, requests)
            per_request = store_cost(f"{tmp}/isolated", requests, texts_ours)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if texts_ours != texts_seq:
        raise SystemExit("the two clients got different answers for the same requests")

    n = len(requests)
    rate_ours, rate_seq = n / t_ours, n / t_seq
    speedup = rate_ours / rate_seq
    overhead_ms = per_request * 1000
    print(f"server: 127.0.0.1, fixed delay {args.delay * 1000:.0f} ms per request; {n} chat requests per client")
    print(f"sequential client           : {t_seq:8.2f} s  {rate_seq:8.1f} req/s")
    print(f"kodcode client, conc {args.concurrency:3d}    : {t_ours:8.2f} s  {rate_ours:8.1f} req/s  (writing every response to the store)")
    print(f"same, store taken out       : {t_null:8.2f} s  {n / t_null:8.1f} req/s")
    print(f"ratio                       : {speedup:8.1f}x  (ideal at this concurrency and delay: {args.concurrency}x)")
    print(f"store cost per request      : {overhead_ms:8.3f} ms  (one missed look-up + one record write, measured alone)")
    print(f"store time during the run   : {timed.seconds / n * 1000:8.3f} ms/request wall, mostly on the writer thread")
    print(f"RESULT speedup={speedup:.1f} store_overhead_ms={overhead_ms:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
