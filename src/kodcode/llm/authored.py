"""Authored: serve hand-written responses keyed by ``stage/item/sample``.

Only for building the bundled demo archive (``scripts/compile_demo.py``): the responses
in ``demo/responses.yaml`` were written by this project's developers, not by a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import yaml

from .backends import ReplayMiss, ResultCallback
from .request import Request, Response


def load_authored(path: str | Path) -> dict[str, str]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    responses = data.get("responses", {})
    if not isinstance(responses, dict):
        raise ValueError(f"{path}: 'responses' must map 'stage/item/sample' to text")
    return {str(k): str(v) for k, v in responses.items()}


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
