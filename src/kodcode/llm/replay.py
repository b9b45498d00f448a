"""Replay: serve responses only from recorded archives (store exports); never call a model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from ..store import read_archive
from .base import ReplayMiss, ResultCallback
from .request import Request, Response


class ReplayBackend:
    name = "replay"

    def __init__(self, archives: Sequence[str | Path]) -> None:
        self.records: dict[str, dict] = {}
        for path in archives:
            if not Path(path).exists():
                raise ReplayMiss(f"llm.replay_archives: {path} does not exist")
            self.records.update(read_archive(path))

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        missing = [r for r in requests if r.key not in self.records]
        if missing:
            by_stage = Counter(r.stage for r in missing)
            examples = ", ".join(r.label for r in missing[:10])
            raise ReplayMiss(
                f"replay backend: {len(missing)} of {len(requests)} requests are not recorded "
                f"(by stage: {dict(by_stage)}; e.g. {examples}). Record them with a real backend "
                "(llm.backend: openai or vllm), import an archive that has them "
                "(kodcode store import FILE), or, for the bundled demo, recompile it "
                "(python scripts/compile_demo.py)."
            )
        for req in requests:
            rec = self.records[req.key]["response"]
            on_result(req, Response(**rec))

    def close(self) -> None:
        pass
