"""Fixtures for the LLM layer's tests: a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import pytest

from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig
from kodcode.llm.request import Request
from kodcode.testing.fake_openai import FakeOpenAIServer


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def make_backend(srv: FakeOpenAIServer, **kw) -> OpenAIBackend:
    kw.setdefault("api_key_env", None)
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("backoff_max_s", 0.05)
    kw.setdefault("timeout_s", 10.0)
    return OpenAIBackend(OpenAIConfig(base_url=srv.base_url, **kw))


def chat(i: int, text: str | None = None, stage: str = "solutions", model: str = "gpt-test", **kw) -> Request:
    return Request(stage=stage, item_id=f"q{i:04d}", sample=kw.pop("sample", 0), model=model,
                   messages=(("system", "You are a coding assistant."), ("user", text or f"Write a python function number {i}.")),
                   temperature=kw.pop("temperature", 0.7), seed=kw.pop("seed", 1000 + i), **kw)
