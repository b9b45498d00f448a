"""The backend interface: what every backend implements and the errors it may raise.

A backend turns requests into responses and calls ``on_result`` as each arrives, so the
client can store it at once: a crash loses nothing that was received. Per-item failures
come back as ``Response(error=...)``; a problem that will hit every request (bad API key,
unknown model, missing package) raises ``BackendFatalError`` straight away.

This module imports no backend, so every backend and the factory (``backends``) can import
it without importing each other (as ``executor/base.py`` does for the executor).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable, Protocol, Sequence, TypeVar

from .request import Request, Response

ResultCallback = Callable[[Request, Response], None]

T = TypeVar("T")


class BackendFatalError(RuntimeError):
    """The backend cannot serve any request; retrying will not help."""


class ReplayMiss(BackendFatalError):
    """The replay (or authored) backend was asked for responses it does not hold."""


class Backend(Protocol):
    name: str

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None: ...

    def close(self) -> None: ...


def section_from_dict(cls: type[T], cfg: dict[str, Any] | None, section: str) -> T:
    """Build a backend's config dataclass, naming the config section in any unknown key."""
    cfg = dict(cfg or {})
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise BackendFatalError(f"{section}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**cfg)
