"""verl reward function for the KodCode verl export: a completion scores 1.0 when its code
passes the row's tests in this project's sandbox (``kodcode.executor``), else 0.0.

verl loads it by file path (``custom_reward_function.path``, ``name: compute_score``), so
this module imports only absolute names (``kodcode`` must be installed where the reward
workers run) and keeps no state but a warm executor pool per process::

    custom_reward_function.path=results/exports/verl/kodcode_reward.py
    custom_reward_function.name=compute_score

``ground_truth`` is the row's tests (``reward_model.ground_truth``); ``extra_info.test_kind``
says how they run (``pytest``, the default, or ``stdio`` cases). The code is taken from the
completion after its last ``</think>`` (a completion that opens ``<think>`` and never closes
it scores 0.0), from the last fenced code block (a fence without a language counts).

Environment (read on each call):

=============================  ================================================================
``KODCODE_REWARD_ENGINE``      executor engine: ``auto`` (default), ``bwrap``, ``apptainer``,
                               ``docker``, ``none``
``KODCODE_REWARD_IMAGE``       container image for apptainer/docker
``KODCODE_REWARD_TIMEOUT_S``   time limit per completion (default: the executor's, 30 s)
``KODCODE_REWARD_MEMORY_MB``   memory limit (default: the executor's, 2048)
``KODCODE_REWARD_STORE``       a verdict store folder (e.g. ``.kodcode/store``): a completion
                               seen before is not run again; unset: no store
=============================  ================================================================

An engine that cannot start raises (``EngineUnavailable``): training on all-zero rewards
because the sandbox is missing would be worse than stopping.
"""

from __future__ import annotations

import os
import re
from typing import Any

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)
_CODE_LANGS = {"", "python", "py", "python3"}


def extract_code(completion: str) -> str | None:
    """The solution code of a completion: the last python (or unlabelled) fenced block after
    the last ``</think>``; None when there is none or the reasoning never ended."""
    text = (completion or "").replace("\r\n", "\n")
    head, sep, answer = text.rpartition("</think>")
    if not sep:
        if "<think>" in text:
            return None  # reasoning cut off: no answer
        answer = text
    blocks = [body for lang, body in _FENCE.findall(answer) if lang.lower() in _CODE_LANGS]
    if not blocks or not blocks[-1].strip():
        return None
    return blocks[-1].strip("\n") + "\n"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; unset it or give seconds/megabytes") from None


def run_completion(code: str, ground_truth: str, kind: str = "pytest") -> Any:
    """The executor's verdict (``kodcode.executor.ExecResult``) for ``code`` against the tests."""
    from kodcode.executor import Attempt, Limits, run_attempts
    from kodcode.executor.service import NAMESPACE
    from kodcode.parse import executable_tests
    from kodcode.store import ContentStore

    tests = executable_tests(ground_truth) if kind == "pytest" else ground_truth
    default = Limits()  # the executor's defaults (those of config/schema.yaml's executor.limits)
    limits = Limits(timeout_s=_env_float("KODCODE_REWARD_TIMEOUT_S", default.timeout_s),
                    memory_mb=int(_env_float("KODCODE_REWARD_MEMORY_MB", default.memory_mb)))
    store_root = os.environ.get("KODCODE_REWARD_STORE")
    (result,), _ = run_attempts(
        [Attempt("completion", code, tests, kind)],  # type: ignore[arg-type]
        limits=limits, engine=os.environ.get("KODCODE_REWARD_ENGINE") or "auto",
        store=ContentStore(store_root, NAMESPACE) if store_root else None, workers=1,
        image=os.environ.get("KODCODE_REWARD_IMAGE") or None, preload=[])
    return result


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None,
                  **kwargs: Any) -> float:
    """verl's reward signature: 1.0 if the completion's code passes every test, else 0.0.
    ``data_source`` is not used (every KodCode row is scored the same way); extra keyword
    arguments (verl's ``reward_kwargs``) are accepted and ignored."""
    kind = (extra_info or {}).get("test_kind") or "pytest"
    if kind not in ("pytest", "stdio"):
        raise ValueError(f"extra_info.test_kind is {kind!r}; expected pytest or stdio")
    code = extract_code(solution_str)
    if code is None or not ground_truth:
        return 0.0
    return 1.0 if run_completion(code, ground_truth, kind).ok else 0.0
