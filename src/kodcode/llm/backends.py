"""The backend interface and the registry that picks one from config.

A backend turns requests into responses and calls ``on_result`` as each arrives, so the
client can store it at once: a crash loses nothing that was received. Per-item failures
come back as ``Response(error=...)``; a problem that will hit every request (bad API key,
unknown model, missing package) raises ``BackendFatalError`` straight away.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from .request import Request, Response

ResultCallback = Callable[[Request, Response], None]


class BackendFatalError(RuntimeError):
    """The backend cannot serve any request; retrying will not help."""


def section_from_dict(cls: type, cfg: dict[str, Any] | None, section: str):
    """Build a backend's config dataclass, naming the config section in any unknown key."""
    from dataclasses import fields

    cfg = dict(cfg or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise BackendFatalError(f"{section}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**cfg)


class ReplayMiss(BackendFatalError):
    """The replay backend was asked for responses it does not hold."""


class Backend(Protocol):
    name: str

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None: ...

    def close(self) -> None: ...


class LazyBackend:
    """The configured backend, built on the first request that misses the store, so a
    shard served wholly from the store never loads an archive, a client or a GPU model
    (and the store is not probed twice to find that out)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.name = cfg.get("backend", "replay")
        self._backend: Backend | None = None

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        if self._backend is None:
            self._backend = make_backend(self.cfg)
        self._backend.generate(requests, on_result)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def make_backend(cfg: dict[str, Any]) -> Backend:
    """Build the backend named by ``cfg["backend"]`` (the ``llm`` section of the config)."""
    name = cfg.get("backend", "replay")
    if name == "replay":
        from .replay import ReplayBackend

        return ReplayBackend(archives=cfg.get("replay_archives", []))
    if name == "authored":
        from .authored import AuthoredBackend

        return AuthoredBackend(cfg["authored_responses"])
    if name == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend.from_config(cfg.get("openai", {}))
    if name == "vllm":
        from .vllm_backend import VLLMBackend

        return VLLMBackend.from_config(cfg.get("vllm", {}))
    raise BackendFatalError(f"llm.backend: unknown backend {name!r}; choose replay, authored, openai or vllm")
