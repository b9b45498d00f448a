"""The openai backend against a real local HTTP server: success, retries, failures, keys."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from kodcode.llm.backends import make_backend
from kodcode.llm.base import BackendFatalError
from kodcode.llm.client import response_store, run_requests
from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig, _retry_after
from kodcode.llm.request import Request
from kodcode.testing.fake_openai import FakeOpenAIServer, answer_for, fingerprint

from .conftest import chat, make_backend as backend_for


def received_for(srv, backend: OpenAIBackend, req: Request) -> int:
    return srv.received[fingerprint(backend.body_for(req)[1])]


def test_chat_and_raw_completion_succeed_and_are_stored(server, tmp_path):
    b = backend_for(server)
    reqs = [chat(i) for i in range(20)]
    reqs.append(Request("questions", "p1", 0, "qwen", prompt="<|im_start|>user\nWrite a python function to", stop=("\n",), seed=7))
    store = response_store(tmp_path)
    out, stats = run_requests(reqs, b, store, progress=False)
    assert [r.text for r in out] == [answer_for(b.body_for(r)[1]) for r in reqs]
    assert all(r.finish_reason == "stop" and r.usage["completion_tokens"] == 2 for r in out)
    assert stats.generated == 21 and stats.failures == 0 and stats.cache_hits == 0
    assert stats.prompt_tokens > 0 and stats.completion_tokens == 42
    assert len(store) == 21
    # the raw prompt went to /completions with its stop string; the body never carries n
    body = b.body_for(reqs[-1])
    assert body[0].endswith("/v1/completions") and body[1]["stop"] == ["\n"] and "n" not in body[1]
    # a second run is served from the store without a single request
    before = server.total_received
    out2, stats2 = run_requests(reqs, b, store, progress=False)
    assert [r.text for r in out2] == [r.text for r in out] and stats2.cache_hits == 21
    assert server.total_received == before


def test_429_waits_for_retry_after(server, tmp_path):
    b = backend_for(server)
    req = chat(1, "please [[429:1:1]]")
    t = time.perf_counter()
    out, stats = run_requests([req], b, response_store(tmp_path), progress=False)
    assert time.perf_counter() - t >= 0.95  # Retry-After: 1 honoured, not the 10 ms backoff
    assert out[0].ok and received_for(server, b, req) == 2 and stats.retries == 1


def test_500s_are_retried_then_given_up(server, tmp_path):
    b = backend_for(server, max_retries=3)
    ok, bad = chat(1, "flaky [[500:2]]"), chat(2, "broken [[500:99]]")
    good = [chat(i) for i in range(3, 40)]
    out, stats = run_requests([ok, bad, *good], b, response_store(tmp_path), progress=False)
    assert out[0].ok and received_for(server, b, ok) == 3
    assert not out[1].ok and "HTTP 500" in out[1].error and "gave up after 4 attempts" in out[1].error
    assert received_for(server, b, bad) == 4
    assert all(r.ok for r in out[2:]) and stats.failures == 1 and stats.retries == 2 + 3


def test_timeouts_are_retried(server, tmp_path):
    b = backend_for(server, timeout_s=0.3)
    req = chat(1, "slow once [[slow:1:2]]")
    t = time.perf_counter()
    out, stats = run_requests([req], b, response_store(tmp_path), progress=False)
    assert out[0].ok and stats.retries == 1 and time.perf_counter() - t < 1.8
    assert received_for(server, b, req) == 2


def test_malformed_bodies_fail_only_their_item(server, tmp_path):
    b = backend_for(server)
    reqs = [chat(1, "x [[malformed]]"), chat(2, "y [[nochoices]]"), chat(3, "z [[400]]")] + [chat(i) for i in range(4, 80)]
    store = response_store(tmp_path)
    out, stats = run_requests(reqs, b, store, max_failure_share=0.1, progress=False)
    assert "malformed response body" in out[0].error and "malformed response body" in out[1].error
    assert out[2].error.startswith("HTTP 400")
    assert [received_for(server, b, r) for r in reqs[:3]] == [1, 1, 1]  # not retried
    assert stats.failures == 3 and stats.generated == 76 and len(store) == 76


def test_failure_share_stops_the_run_after_storing_successes(server, tmp_path):
    b = backend_for(server)
    reqs = [chat(i, f"q{i} [[400]]") for i in range(5)] + [chat(i) for i in range(5, 20)]
    store = response_store(tmp_path)
    with pytest.raises(BackendFatalError, match="5 of 20 requests failed"):
        run_requests(reqs, b, store, max_failure_share=0.05, progress=False)
    assert len(store) == 15


def test_invalid_key_stops_at_once_without_leaking_it(tmp_path, monkeypatch, caplog):
    secret = "sk-wrongkey0123456789abcdef"
    monkeypatch.setenv("KODCODE_TEST_KEY", secret)
    with FakeOpenAIServer(api_key="sk-the-right-one") as srv:
        b = backend_for(srv, api_key_env="KODCODE_TEST_KEY", concurrency=8)
        reqs = [chat(i) for i in range(500)]
        with caplog.at_level(logging.DEBUG), pytest.raises(BackendFatalError) as err:
            run_requests(reqs, b, response_store(tmp_path), progress=False)
        assert srv.total_received <= 8 + 8  # the requests in flight, not 500 retried ones
    msg = str(err.value)
    assert "HTTP 401" in msg and "KODCODE_TEST_KEY" in msg and secret not in msg
    assert secret not in caplog.text


def test_unknown_model_is_fatal(tmp_path):
    with FakeOpenAIServer(models={"gpt-test"}) as srv:
        b = backend_for(srv, concurrency=4)
        with pytest.raises(BackendFatalError, match="does not serve this model"):
            run_requests([chat(i, model="gpt-nope") for i in range(50)], b, response_store(tmp_path), progress=False)
        assert srv.total_received <= 8


def test_unset_key_variable_is_fatal_before_any_request(server, tmp_path, monkeypatch):
    monkeypatch.delenv("KODCODE_UNSET_KEY", raising=False)
    b = backend_for(server, api_key_env="KODCODE_UNSET_KEY")
    with pytest.raises(BackendFatalError, match="KODCODE_UNSET_KEY"):
        run_requests([chat(1)], b, response_store(tmp_path), progress=False)
    assert server.total_received == 0


def test_key_is_sent_but_never_stored(tmp_path, monkeypatch, caplog):
    secret = "sk-live-0123456789abcdefXYZ"
    monkeypatch.setenv("KODCODE_TEST_KEY", secret)
    with FakeOpenAIServer(api_key=secret) as srv:
        b = backend_for(srv, api_key_env="KODCODE_TEST_KEY")
        with caplog.at_level(logging.DEBUG):
            out, _ = run_requests([chat(i) for i in range(10)] + [chat(99, "[[400]]")], b,
                                  response_store(tmp_path), max_failure_share=0.5, progress=True)
        assert set(srv.auth_headers) == {f"Bearer {secret}"}
    assert all(r.ok for r in out[:10])
    # records are compressed in segments: check what they hold, and every file's raw bytes
    assert all(secret not in json.dumps(r) for _, r in response_store(tmp_path).items())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    assert secret not in caplog.text


def test_redaction_masks_key_like_strings():
    b = OpenAIBackend(OpenAIConfig(api_key_env=None))
    b._keys.add("abc123secret")
    assert b.redact("key abc123secret and sk-proj-ABCDEF123456") == "key *** and sk-***"


def test_retry_after_parsing():
    assert _retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert _retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert _retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert _retry_after(httpx.Headers({})) is None


def test_config_keys_and_make_backend(server):
    b = make_backend({"backend": "openai", "openai": {"base_url": server.base_url, "api_key_env": None, "concurrency": 3}})
    assert isinstance(b, OpenAIBackend) and b.config.concurrency == 3
    with pytest.raises(BackendFatalError, match="unknown keys"):
        make_backend({"backend": "openai", "openai": {"base_url": server.base_url, "concurency": 3}})
    with pytest.raises(BackendFatalError, match="concurrency"):
        OpenAIConfig.from_dict({"concurrency": 0})


def test_max_completion_tokens_field(server):
    b = backend_for(server, max_tokens_field="max_completion_tokens")
    _, body = b.body_for(chat(1, max_tokens=77))
    assert body["max_completion_tokens"] == 77 and "max_tokens" not in body


def test_reasoning_content_is_kept_inline():
    b = OpenAIBackend(OpenAIConfig(api_key_env=None))
    r = httpx.Response(200, json={"model": "deepseek-reasoner", "choices": [{"finish_reason": "stop", "message": {
        "content": "final", "reasoning_content": "thinking"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 9}})
    resp = b._parse(r, chat(1))
    assert resp.text == "<think>\nthinking\n</think>\n\nfinal" and resp.usage == {"prompt_tokens": 3, "completion_tokens": 9}


def test_models_routed_to_their_own_endpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("KODCODE_R1_KEY", "sk-r1-key-0123456789")
    with FakeOpenAIServer() as gpt, FakeOpenAIServer(api_key="sk-r1-key-0123456789", models={"deepseek-reasoner"}) as r1:
        b = backend_for(gpt, models={"deepseek-ai/DeepSeek-R1": {"base_url": r1.base_url, "api_key_env": "KODCODE_R1_KEY",
                                                                  "model": "deepseek-reasoner"}})
        reqs = [chat(i) for i in range(6)] + [chat(i, stage="reasoning", model="deepseek-ai/DeepSeek-R1") for i in range(6)]
        out, stats = run_requests(reqs, b, response_store(tmp_path), progress=False)
        assert all(r.ok for r in out) and gpt.total_received == 6 and r1.total_received == 6
        assert set(r1.auth_headers) == {"Bearer sk-r1-key-0123456789"} and set(gpt.auth_headers) == {""}
    # the store key is the pipeline's model id, whatever the provider calls it
    assert response_store(tmp_path).get(reqs[-1].key)["request"]["model"] == "deepseek-ai/DeepSeek-R1"
