"""Helpers shared by the stages: request files, shard routing, stats sidecars."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..hashing import derive_seed, shard_of
from ..jsonl import read_jsonl, write_json, write_jsonl
from ..llm.request import Request
from ..seeds import LISTED, SHOWN, over_limit_reason

log = logging.getLogger("kodcode")


def make_request(stage: str, item_id: str, sample: int, model_cfg: dict[str, Any], global_seed: int,
                 user: str | None = None, prompt: str | None = None, stop: Sequence[str] = (),
                 stop_token_ids: Sequence[int] = ()) -> Request:
    """One request of ``stage``. ``model_cfg`` is a ``models.<role>`` entry as the config check
    filled it in (temperature, top_p, max_tokens and stop present); ``stop`` overrides its stop."""
    return Request(
        stage=stage,
        item_id=item_id,
        sample=sample,
        model=model_cfg["model"],
        messages=(("user", user),) if user is not None else None,
        prompt=prompt,
        temperature=float(model_cfg["temperature"]),
        top_p=float(model_cfg["top_p"]),
        max_tokens=int(model_cfg["max_tokens"]),
        stop=tuple(stop or model_cfg["stop"]),
        seed=derive_seed(global_seed, stage, item_id, sample),
        stop_token_ids=tuple(stop_token_ids),
    )


def prompt_chars(req: Request) -> int:
    """What a request sends to the model, in characters: its raw prompt or its messages."""
    return len(req.prompt or "") + sum(len(text or "") for _, text in req.messages or ())


@dataclass
class PromptLimit:
    """``llm.max_prompt_chars``: a request whose prompt is longer is dropped and counted, never
    sent (a damaged or oversized seed must not become a large paid request)."""

    max_chars: int | None  # None: no limit (a caller outside the workflow that names none)
    dropped: list[str] = field(default_factory=list)  # item ids

    def admits(self, *reqs: Request) -> bool:
        """True when every request of one item is within the limit; else the item is dropped."""
        if self.max_chars is None or all(prompt_chars(r) <= self.max_chars for r in reqs):
            return True
        self.dropped.append(reqs[0].item_id)
        return False

    def stats(self) -> dict[str, Any]:
        """Counts for the stats sidecar: ``dropped`` by reason and the first item ids."""
        if not self.dropped:
            return {"dropped": {}}
        return {"dropped": {over_limit_reason(self.max_chars): len(self.dropped)}, "over_limit": self.dropped[:LISTED]}

    def note(self, what: str, total: int, stats: str) -> str | None:
        """The console line when something was dropped, e.g. ``Leetcode question prompts: ...``."""
        if not self.dropped:
            return None
        more = ", ..." if len(self.dropped) > SHOWN else ""
        return (f"{what}: {len(self.dropped)} of {total} dropped as longer than llm.max_prompt_chars "
                f"({self.max_chars} characters; {', '.join(self.dropped[:SHOWN])}{more}), never sent to a model: "
                f"see {stats}")


def write_sharded_requests(rows: Iterable[tuple[Request, dict[str, Any]]], out_paths: Sequence[str]) -> list[int]:
    """Route (request, meta) rows to shard files by a stable hash of the item id."""
    buckets: list[list[dict[str, Any]]] = [[] for _ in out_paths]
    for req, meta in rows:
        buckets[shard_of(req.item_id, len(out_paths))].append({"request": req.to_dict(), "meta": meta})
    for path, bucket in zip(out_paths, buckets):
        bucket.sort(key=lambda r: (r["request"]["item_id"], r["request"]["sample"]))
        write_jsonl(path, bucket)
    return [len(b) for b in buckets]


def read_many(paths: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in paths:
        out.extend(read_jsonl(p))
    return out


def write_stats(path: str, stage: str, **counts: Any) -> None:
    clean = {k: (dict(sorted(v.items())) if isinstance(v, Counter) else v) for k, v in counts.items()}
    write_json(path, {"stage": stage, **clean})
    log.info("%s: %s", stage, clean)


def by_item(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["item_id"], []).append(r)
    for v in out.values():
        v.sort(key=lambda r: r["sample"])
    return out
