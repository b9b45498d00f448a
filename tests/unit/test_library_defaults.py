"""The library's own defaults (used when the package is called outside the workflow:
``kodcode execute``, the benchmarks, notebooks) are the schema's, so a default is decided
in one place, config/schema.yaml, and a copy that drifts fails here."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from kodcode.config import load_schema, validate
from kodcode.executor.base import Limits
from kodcode.executor.service import run_attempts
from kodcode.llm.client import run_requests
from kodcode.llm.openai_backend import OpenAIConfig
from kodcode.llm.vllm_backend import VLLMConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def filled() -> dict:
    """A minimal config with every schema default filled in, as the workflow sees it."""
    cfg: dict = {"seed": 0, "subsets": ["Prefill"], "llm": {"backend": "replay"}}
    validate(cfg, load_schema(ROOT))
    return cfg


def _dataclass_defaults(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
    return out


def _param_default(fn, name: str):
    return inspect.signature(fn).parameters[name].default


@pytest.mark.parametrize("cls, section", [
    (Limits, ("executor", "limits")),
    (OpenAIConfig, ("llm", "openai")),
    (VLLMConfig, ("llm", "vllm")),
])
def test_section_dataclasses_default_to_the_schema(filled, cls, section):
    node = filled
    for key in section:
        node = node[key]
    ours = _dataclass_defaults(cls)
    schema_side = {k: node[k] for k in ours if k in node}
    assert schema_side, f"{'.'.join(section)}: the schema fills none of {sorted(ours)}"
    assert {k: ours[k] for k in schema_side} == schema_side


def test_function_defaults_are_the_schema_defaults(filled):
    assert _param_default(run_requests, "max_failure_share") == filled["llm"]["max_failure_share"]
    assert _param_default(run_attempts, "engine") == filled["executor"]["engine"]
    assert _param_default(run_attempts, "workers") == filled["executor"]["workers"]
    assert _param_default(run_attempts, "limits") == Limits(**filled["executor"]["limits"])
