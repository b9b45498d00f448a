"""run_requests: stats, the closing log line, duplicates, the writer thread, request keys."""

from __future__ import annotations

import pytest

from kodcode.llm.client import GenerationStats, response_store, run_requests
from kodcode.llm.request import Request, Response
from kodcode.store_runner import StoreWriter

from .conftest import chat


class EchoBackend:
    name = "echo"

    def __init__(self):
        self.seen = []
        self.retries = 0

    def generate(self, requests, on_result):
        for r in requests:
            self.seen.append(r.key)
            self.retries += 1
            on_result(r, Response(text=f"echo {r.item_id}", finish_reason="stop", model=r.model,
                                  usage={"prompt_tokens": 3, "completion_tokens": 4}))

    def close(self):
        pass


def test_duplicates_are_asked_once_and_summary_is_logged(tmp_path, capsys):
    b = EchoBackend()
    reqs = [chat(1), chat(2), chat(1)]
    out, stats = run_requests(reqs, b, response_store(tmp_path), progress=True)
    assert len(b.seen) == 2 and out[0].text == out[2].text == "echo q0001"
    assert stats.to_dict() == {"requests": 3, "cache_hits": 0, "generated": 2, "failures": 0,
                               "prompt_tokens": 6, "completion_tokens": 8, "retries": 2}
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("generate: 3 requests: 0 cache hits, 2 generated, 0 failed, 2 retries; tokens 6 prompt + 8 completion")


def test_no_backend_and_misses_is_fatal(tmp_path):
    from kodcode.llm.base import BackendFatalError

    with pytest.raises(BackendFatalError, match="not in the store"):
        run_requests([chat(1)], None, response_store(tmp_path), progress=False)


def test_store_writer_reports_write_errors(tmp_path):
    class Broken:
        def put(self, key, record):
            raise OSError("disk full")

    w = StoreWriter(Broken())
    w.put("ab" * 8, {})
    with pytest.raises(OSError, match="disk full"):
        w.close()


def test_summary_without_timing():
    assert GenerationStats(requests=1).summary() .startswith("1 requests: 0 cache hits")


def test_request_keys_ignore_provenance_but_not_sampling():
    a = chat(1)
    b = Request("other-stage", "other-item", a.sample, a.model, messages=a.messages, temperature=a.temperature, seed=a.seed)
    assert a.key == b.key and a.label != b.label
    assert chat(1, seed=5).key != chat(1, seed=6).key and chat(1, sample=1).key != chat(1, sample=0).key
    with_ids = Request("s", "i", 0, "m", prompt="p", stop_token_ids=(7,))
    assert with_ids.key != Request("s", "i", 0, "m", prompt="p").key
    assert "stop_token_ids" not in Request("s", "i", 0, "m", prompt="p").canonical()  # old keys unchanged
    assert Request.from_dict(with_ids.to_dict()) == with_ids
