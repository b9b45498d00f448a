"""Requests and responses, independent of any backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..hashing import content_hash


@dataclass(frozen=True)
class Request:
    """One sample to draw from a model.

    ``stage``, ``item_id`` and ``sample`` say where the request comes from; they are not
    part of the store key. The key covers what determines the answer: model, the chat
    messages or the raw prompt, the sampling parameters, the seed and the sample index.
    """

    stage: str
    item_id: str
    sample: int
    model: str
    messages: tuple[tuple[str, str], ...] | None = None  # ((role, content), ...)
    prompt: str | None = None  # raw completion prompt (MAGPIE prefill)
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 2048
    stop: tuple[str, ...] = ()
    seed: int = 0
    stop_token_ids: tuple[int, ...] = ()  # e.g. MAGPIE's end-of-turn ids (vLLM engines and servers)

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError(f"{self.stage}/{self.item_id}: a request has either messages or a raw prompt")

    @property
    def kind(self) -> str:
        return "chat" if self.messages is not None else "completion"

    def canonical(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "kind": self.kind,
            "temperature": float(self.temperature),
            "top_p": float(self.top_p),
            "max_tokens": int(self.max_tokens),
            "stop": list(self.stop),
            "seed": int(self.seed),
            "sample": int(self.sample),
        }
        if self.stop_token_ids:  # only when set, so keys of requests without ids never change
            body["stop_token_ids"] = [int(i) for i in self.stop_token_ids]
        if self.messages is not None:
            body["messages"] = [{"role": r, "content": c} for r, c in self.messages]
        else:
            body["prompt"] = self.prompt
        return body

    @property
    def key(self) -> str:
        return content_hash(self.canonical())

    @property
    def label(self) -> str:
        """``stage/item/sample``: how the authored demo responses are keyed."""
        return f"{self.stage}/{self.item_id}/{self.sample}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["messages"] = None if self.messages is None else [{"role": r, "content": c} for r, c in self.messages]
        d["stop"] = list(self.stop)
        d["stop_token_ids"] = list(self.stop_token_ids)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Request":
        d = dict(d)
        if d.get("messages") is not None:
            d["messages"] = tuple((m["role"], m["content"]) for m in d["messages"])
        d["stop"] = tuple(d.get("stop") or ())
        d["stop_token_ids"] = tuple(d.get("stop_token_ids") or ())
        return cls(**d)


@dataclass
class Response:
    """What a backend returned for one request. ``error`` set means no usable text."""

    text: str | None
    finish_reason: str | None = None
    error: str | None = None
    model: str | None = None
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
