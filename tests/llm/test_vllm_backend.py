"""The vllm backend with a fake ``vllm`` module standing in for the real engine."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import pytest

from kodcode.llm import magpie
from kodcode.llm.backends import make_backend
from kodcode.llm.base import BackendFatalError
from kodcode.llm.client import response_store, run_requests
from kodcode.llm.request import Request
from kodcode.llm.vllm_backend import INSTALL_HINT, VLLMBackend, VLLMConfig

from .conftest import chat


class FakeTokenizer:
    bos = "<BOS>"

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        assert tokenize is False and add_generation_prompt is True
        body = "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages)
        return self.bos + body + "<assistant>"

    def encode(self, text, add_special_tokens=True):
        ids = [ord(c) for c in text]
        return ([1] if add_special_tokens else []) + ids


@dataclass
class FakeSamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    stop: list | None = None
    stop_token_ids: list | None = None
    seed: int | None = None
    skip_special_tokens: bool = True


@dataclass
class FakeCompletion:
    text: str
    token_ids: list
    finish_reason: str = "stop"


@dataclass
class FakeRequestOutput:
    prompt_token_ids: list
    outputs: list = field(default_factory=list)


class FakeLLM:
    instances: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls = []
        self.llm_engine = types.SimpleNamespace(model_config=types.SimpleNamespace(max_model_len=kwargs.get("max_model_len", 4096)))
        FakeLLM.instances.append(self)

    def get_tokenizer(self):
        return FakeTokenizer()

    def generate(self, prompts, params, use_tqdm=True):
        assert isinstance(params, list) and len(params) == len(prompts)
        self.calls.append((prompts, params))
        return [FakeRequestOutput(p["prompt_token_ids"], [FakeCompletion(f"out-{sp.seed}-{len(p['prompt_token_ids'])}", [5, 6, 7])])
                for p, sp in zip(prompts, params)]


@pytest.fixture
def fake_vllm(monkeypatch):
    mod = types.ModuleType("vllm")
    mod.LLM = FakeLLM
    mod.SamplingParams = FakeSamplingParams
    FakeLLM.instances = []
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return mod


def test_missing_vllm_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(BackendFatalError) as err:
        make_backend({"backend": "vllm", "vllm": {}})
    assert INSTALL_HINT in str(err.value)
    assert "pip install 'kodcode-workflow[vllm]'" in str(err.value)


def test_engine_built_from_config(fake_vllm):
    b = make_backend({"backend": "vllm", "vllm": {"tensor_parallel_size": 4, "gpu_memory_utilization": 0.8,
                                                  "max_model_len": 8192, "dtype": "bfloat16",
                                                  "models": {"Qwen/Qwen2.5-Coder-7B-Instruct": "/models/qwen7b"}}})
    assert isinstance(b, VLLMBackend)
    b.engine("Qwen/Qwen2.5-Coder-7B-Instruct")
    kw = FakeLLM.instances[0].kwargs
    assert kw["model"] == "/models/qwen7b" and kw["tensor_parallel_size"] == 4
    assert kw["gpu_memory_utilization"] == 0.8 and kw["max_model_len"] == 8192 and kw["dtype"] == "bfloat16"
    with pytest.raises(BackendFatalError, match="unknown keys"):
        VLLMConfig.from_dict({"tp": 2})


def test_chat_and_prefill_in_one_generate_call_each(fake_vllm, tmp_path):
    b = VLLMBackend(VLLMConfig())
    prefill = magpie.prefill_prompt("qwen2.5", None, "Write a python function to")
    reqs = [chat(i, model="qwen", max_tokens=64) for i in range(5)]
    reqs.append(Request("questions", "p0", 0, "qwen", prompt=prefill, temperature=1.0, max_tokens=128, seed=42,
                        stop=tuple(magpie.stop_strings("qwen2.5")), stop_token_ids=tuple(magpie.stop_token_ids("qwen2.5"))))
    out, stats = run_requests(reqs, b, response_store(tmp_path), progress=False)
    llm = FakeLLM.instances[0]
    assert len(llm.calls) == 1 and b.generate_calls == 1
    prompts, params = llm.calls[0]
    # chat: the tokenizer's chat template, encoded without a second BOS
    text = FakeTokenizer().apply_chat_template([{"role": r, "content": c} for r, c in reqs[0].messages], add_generation_prompt=True)
    assert prompts[0]["prompt_token_ids"] == [ord(c) for c in text]
    # raw prompt: tokenized as a server would, special tokens included
    assert prompts[5]["prompt_token_ids"] == [1] + [ord(c) for c in prefill]
    sp = params[5]
    assert sp.seed == 42 and sp.n == 1 and sp.max_tokens == 128 and "\n" in sp.stop and 151645 in sp.stop_token_ids
    assert [p.seed for p in params[:5]] == [1000 + i for i in range(5)]
    assert params[0].stop is None and params[0].stop_token_ids is None
    assert all(r.ok for r in out) and out[5].text.startswith("out-42-")
    assert stats.completion_tokens == 18 and stats.prompt_tokens == sum(len(p["prompt_token_ids"]) for p in prompts)


def test_batch_size_and_too_long_prompts(fake_vllm, tmp_path):
    b = VLLMBackend(VLLMConfig(batch_size=2, max_model_len=200))
    reqs = [chat(i, model="m") for i in range(5)] + [chat(9, "x" * 500, model="m")]
    out, stats = run_requests(reqs, b, response_store(tmp_path), max_failure_share=0.5, progress=False)
    assert b.generate_calls == 3
    assert "max_model_len is 200" in out[5].error and stats.failures == 1 and stats.generated == 5


def test_one_engine_per_model_at_a_time(fake_vllm, tmp_path):
    b = VLLMBackend(VLLMConfig())
    run_requests([chat(1, model="a"), chat(2, model="b")], b, response_store(tmp_path), progress=False)
    assert [e.kwargs["model"] for e in FakeLLM.instances] == ["a", "b"] and list(b._engines) == ["b"]
    b.close()
    assert not b._engines
