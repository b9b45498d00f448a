"""Build the backend the config names; nothing else.

The interface every backend implements lives in ``base``; each backend module is imported
only when it is chosen, so a replay run never imports httpx's client or vLLM.
"""

from __future__ import annotations

from typing import Any, Sequence

from .base import Backend, BackendFatalError, ReplayMiss, ResultCallback
from .request import Request

# the errors building a backend can raise, for callers that only know the factory
__all__ = ["BackendFatalError", "LazyBackend", "ReplayMiss", "make_backend"]

BACKENDS = ("replay", "authored", "openai", "vllm")


def make_backend(cfg: dict[str, Any], store_root: str | None = None) -> Backend:
    """Build the backend named by ``cfg["backend"]`` (the ``llm`` section of the config).
    ``store_root`` is the response store's folder: the openai backend's batch mode keeps its
    journal of submitted batches there."""
    name = cfg.get("backend", "replay")
    if name == "replay":
        from .replay import ReplayBackend

        return ReplayBackend(archives=cfg.get("replay_archives", []))
    if name == "authored":
        from .authored import AuthoredBackend

        return AuthoredBackend(cfg["authored_responses"])
    if name == "openai":
        if _openai_batch(cfg):
            from .openai_batch import OpenAIBatchBackend

            if store_root is None:
                raise BackendFatalError("llm.openai.mode: batch keeps a journal of paid batches in the store folder, "
                                        "and none was given; run it through the workflow (or pass store_root)")
            return OpenAIBatchBackend.from_config(cfg.get("openai", {}), store_root)
        from .openai_backend import OpenAIBackend

        return OpenAIBackend.from_config(cfg.get("openai", {}))
    if name == "vllm":
        from .vllm_backend import VLLMBackend

        return VLLMBackend.from_config(cfg.get("vllm", {}))
    raise BackendFatalError(f"llm.backend: unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


class LazyBackend:
    """The configured backend, built on the first request that misses the store, so a
    shard served wholly from the store never loads an archive, a client or a GPU model
    (and the store is not probed twice to find that out)."""

    def __init__(self, cfg: dict[str, Any], store_root: str | None = None) -> None:
        self.cfg = cfg
        self.store_root = store_root
        self.name = cfg.get("backend", "replay")
        if self.name == "openai" and _openai_batch(cfg):
            self.name = "openai-batch"  # recorded with each stored response: it came from the Batch API
        self._backend: Backend | None = None

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        if self._backend is None:
            self._backend = make_backend(self.cfg, self.store_root)
        self._backend.generate(requests, on_result)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _openai_batch(cfg: dict[str, Any]) -> bool:
    return (cfg.get("openai") or {}).get("mode", "online") == "batch"
