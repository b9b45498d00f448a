"""Authored: serve hand-written responses keyed by ``stage/item/sample``.

Only for building the bundled demo archive (``scripts/compile_demo.py``): the responses
in ``demo/responses/*.yaml`` were written by this project's developers, not by a model.
``authored_responses`` names one YAML file or a folder of them (read in name order; a key
defined twice is an error naming both files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import yaml

from .base import ReplayMiss, ResultCallback
from .request import Request, Response


def _load_file(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    responses = data.get("responses", {}) if isinstance(data, dict) else None
    if not isinstance(responses, dict):
        raise ValueError(f"{path}: 'responses' must map 'stage/item/sample' to text")
    return {str(k): str(v) for k, v in responses.items()}


def load_authored(path: str | Path) -> dict[str, str]:
    """Authored responses from one YAML file or every ``*.yaml`` in a folder."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"llm.authored_responses: {path} does not exist")
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    out: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for f in files:
        for key, text in _load_file(f).items():
            if key in out:
                raise ValueError(f"{f}: response {key!r} is also defined in {origin[key]}; keep one")
            out[key], origin[key] = text, f
    return out


class AuthoredBackend:
    name = "authored"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.responses = load_authored(path)
        self.served: set[str] = set()

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        missing = [r.label for r in requests if r.label not in self.responses]
        if missing:
            raise ReplayMiss(f"{self.path}: no authored response for {len(missing)} requests: {missing[:20]}")
        for req in requests:
            self.served.add(req.label)
            on_result(req, Response(text=self.responses[req.label], finish_reason="stop", model=req.model))

    def close(self) -> None:
        pass
