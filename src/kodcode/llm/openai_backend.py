"""Any OpenAI-compatible HTTP endpoint: OpenAI, Together, DeepSeek, ``vllm serve``, SGLang.

Requests go out concurrently from ``concurrency`` asyncio workers, each with its own
keep-alive connection (``httpx.AsyncClient``), chat requests to ``{base_url}/chat/completions`` and raw
prompts (MAGPIE prefill) to ``{base_url}/completions``. Each of our requests is one
sample, so ``n`` is never sent: several samples of one prompt are several requests with
their own ``sample`` index and seed.

Failures are sorted three ways:

* worth retrying (429, 408/409/425, 5xx, timeouts, dropped connections): wait and try
  again, up to ``max_retries`` times, honouring ``Retry-After``/``retry-after-ms`` when
  the server sends one, else exponential backoff with jitter;
* fatal for the whole run (401/403 bad key, 404 unknown model or wrong URL, 429 with
  ``insufficient_quota``, API key variable unset): ``BackendFatalError`` at once, after the
  requests already in flight have come back and been stored;
* anything else (400, a body that is not a completion): a failed ``Response`` for that
  request; the client counts it and the run goes on.

The API key is read from the environment variable named by ``api_key_env`` when the
first request is sent, kept only in the client's headers, and masked in every message.

This is ``mode: online``. With ``mode: batch`` the factory builds ``openai_batch``'s backend,
which sends the bodies built here through OpenAI's Batch API and parses the answers here.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx

from . import _http
from .base import BackendFatalError, ResultCallback, section_from_dict
from .request import Request, Response

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
_KEYLIKE = re.compile(r"\b(sk|key|tok)-[A-Za-z0-9_\-*]{4,}")


@dataclass
class OpenAIConfig:
    """The ``llm.openai`` section of the config; every key is optional."""

    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = "OPENAI_API_KEY"  # null: send no key (local servers)
    concurrency: int = 64
    timeout_s: float = 600.0
    max_retries: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_tokens_field: str = "max_tokens"  # "max_completion_tokens" for OpenAI's o-series models
    # per-model endpoint: model id -> {base_url, api_key_env, model (the provider's name for it)}
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    # "batch": OpenAI's Batch API at half the price, answers within 24 h (openai_batch.py)
    mode: str = "online"
    batch_max_requests: int = 50_000  # OpenAI's limits per input file
    batch_max_bytes: int = 200_000_000
    batch_poll_s: float = 30.0  # seconds between status checks of the batches waited on

    @classmethod
    def from_dict(cls, cfg: dict[str, Any] | None) -> "OpenAIConfig":
        out = section_from_dict(cls, cfg, "llm.openai")
        if out.concurrency < 1:
            raise BackendFatalError(f"llm.openai.concurrency must be >= 1, got {out.concurrency}")
        if out.max_retries < 0 or out.timeout_s <= 0 or out.backoff_base_s < 0 or out.backoff_max_s < 0:
            raise BackendFatalError("llm.openai: max_retries, timeout_s and backoff_* must not be negative")
        if out.max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            raise BackendFatalError("llm.openai.max_tokens_field must be max_tokens or max_completion_tokens")
        if out.mode not in ("online", "batch"):
            raise BackendFatalError(f"llm.openai.mode must be online or batch, got {out.mode!r}")
        if out.batch_max_requests < 1 or out.batch_max_bytes < 1 or out.batch_poll_s <= 0:
            raise BackendFatalError("llm.openai: batch_max_requests, batch_max_bytes and batch_poll_s must be positive")
        for model, spec in out.models.items():
            bad = sorted(set(spec or {}) - {"base_url", "api_key_env", "model"})
            if bad:
                raise BackendFatalError(f"llm.openai.models[{model!r}]: unknown keys {bad}; use base_url, api_key_env, model")
        return out

    def endpoint(self, model: str) -> tuple[str, str | None, str]:
        """(base_url, api_key_env, model name to send) for one of our model ids."""
        spec = self.models.get(model) or {}
        return (str(spec.get("base_url", self.base_url)).rstrip("/"),
                spec.get("api_key_env", self.api_key_env), str(spec.get("model", model)))


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OpenAIBackend:
    name = "openai"

    def __init__(self, config: OpenAIConfig | None = None, **overrides: Any) -> None:
        cfg = config or OpenAIConfig()
        for k, v in overrides.items():
            setattr(cfg, k, v)
        self.config = cfg
        self.base_url = cfg.base_url.rstrip("/")
        self.retries = 0  # retried attempts so far (read by the client for its stats)
        self.http_requests = 0  # HTTP requests sent so far
        self._keys: set[str] = set()
        self._rng = random.Random()  # jitter only; never touches what is generated

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> "OpenAIBackend":
        return cls(OpenAIConfig.from_dict(cfg))

    # ------------------------------------------------------------------ public
    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        if not requests:
            return
        headers = {env: self._headers(env) for env in {self.config.endpoint(r.model)[1] for r in requests}}
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._run(requests, on_result, headers))
            return
        # called from inside an event loop (a notebook): run ours in a thread
        box: dict[str, BaseException] = {}

        def target() -> None:
            try:
                asyncio.run(self._run(requests, on_result, headers))
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                box["exc"] = exc

        t = threading.Thread(target=target, name="openai-backend")
        t.start()
        t.join()
        if "exc" in box:
            raise box["exc"]

    def close(self) -> None:
        pass

    # ---------------------------------------------------------------- internals
    def _headers(self, env: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if env:
            key = os.environ.get(env)
            if not key:
                raise BackendFatalError(
                    f"llm.openai.api_key_env names the environment variable {env}, which is not set; "
                    f"export {env}=... (or set api_key_env: null for a server without keys)"
                )
            self._keys.add(key)
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def redact(self, text: str) -> str:
        for key in self._keys:
            text = text.replace(key, "***")
        return _KEYLIKE.sub(lambda m: m.group(1) + "-***", text)

    def body_for(self, req: Request) -> tuple[str, dict[str, Any]]:
        base_url, _, model = self.config.endpoint(req.model)
        body: dict[str, Any] = {"model": model}
        if req.messages is not None:
            path = "/chat/completions"
            body["messages"] = [{"role": r, "content": c} for r, c in req.messages]
        else:
            path = "/completions"
            body["prompt"] = req.prompt
        body["temperature"] = req.temperature
        body["top_p"] = req.top_p
        body[self.config.max_tokens_field] = req.max_tokens
        body["seed"] = req.seed
        if req.stop:
            body["stop"] = list(req.stop)
        if req.stop_token_ids:  # understood by vLLM and SGLang servers
            body["stop_token_ids"] = list(req.stop_token_ids)
        return base_url + path, body

    async def _run(self, requests: Sequence[Request], on_result: ResultCallback,
                   headers: dict[str | None, dict[str, str]]) -> None:
        cfg = self.config
        n_workers = min(cfg.concurrency, len(requests))
        timeout = httpx.Timeout(cfg.timeout_s, connect=min(cfg.timeout_s, 30.0))
        # One client with one keep-alive connection per worker (and per API key when models
        # go to different providers): httpcore's shared pool spends time quadratic in its
        # size on every request, which made a 64-connection pool CPU-bound at a few dozen
        # requests/s. The TLS context is built once and shared.
        ssl_context = _ssl_context()
        stop = asyncio.Event()
        errors: list[BaseException] = []
        pending = iter(requests)

        async def worker() -> None:
            clients: dict[str | None, httpx.AsyncClient] = {}
            try:
                for req in pending:  # one shared iterator: each request is taken once
                    if stop.is_set():
                        return
                    env = cfg.endpoint(req.model)[1]
                    client = clients.get(env)
                    if client is None:
                        client = clients[env] = httpx.AsyncClient(
                            headers=headers[env], timeout=timeout, transport=_http.transport(ssl_context))
                    try:
                        resp = await self._one(client, req, stop)
                        if resp is None:  # stopped while waiting to retry
                            return
                        on_result(req, resp)
                    except BaseException as exc:  # noqa: BLE001 - the first error stops the run
                        errors.append(exc)
                        stop.set()
                        return
            finally:
                for client in clients.values():
                    await client.aclose()

        await asyncio.gather(*(worker() for _ in range(n_workers)))
        if errors:
            fatal = [e for e in errors if isinstance(e, BackendFatalError)]
            raise (fatal or errors)[0]

    async def _one(self, client: httpx.AsyncClient, req: Request, stop: asyncio.Event) -> Response | None:
        url, body = self.body_for(req)
        attempt = 0
        while True:
            try:
                return await self._attempt(client, url, body, req)
            except _Retry as r:
                if attempt >= self.config.max_retries:
                    return Response(text=None, error=f"{r.reason}; gave up after {attempt + 1} attempts", model=req.model)
                delay = self._delay(attempt, r.retry_after)
                log.debug("retrying %s in %.2fs: %s", req.label, delay, r.reason)
                attempt += 1
                self.retries += 1
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return None  # the run is stopping
                except asyncio.TimeoutError:
                    pass

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after) + self._rng.uniform(0, 0.1 * max(retry_after, 0.1))
        cap = min(self.config.backoff_max_s, self.config.backoff_base_s * (2**attempt))
        return self._rng.uniform(cap / 2, cap)

    async def _attempt(self, client: httpx.AsyncClient, url: str, body: dict[str, Any], req: Request) -> Response:
        self.http_requests += 1
        try:
            r = await client.post(url, json=body)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out ({type(exc).__name__}, timeout_s={self.config.timeout_s})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({type(exc).__name__}: {self.redact(str(exc))[:200]})") from None
        status = r.status_code
        if status == 200:
            return self._parse(r, req)
        message, code = self._error_of(r)
        base_url, env, model = self.config.endpoint(req.model)
        where = f"{base_url} (model {model!r})"
        if status in (401, 403):
            source = f"the API key from ${env}" if env else "the request (no API key configured)"
            raise BackendFatalError(
                f"{where} refused {source} (HTTP {status}: {message}); "
                "check the key and its permissions. No request will be retried."
            )
        if status == 404:
            what = "does not serve this model" if code == "model_not_found" or "model" in message.lower() else "has no such endpoint"
            raise BackendFatalError(
                f"{where} {what} (HTTP 404: {message}); check llm.openai.base_url / llm.openai.models and the model names in the config"
            )
        if status == 429 and code == "insufficient_quota":
            raise BackendFatalError(f"{where}: the account has no quota left (HTTP 429: {message})")
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}: {message}", _retry_after(r.headers))
        return Response(text=None, error=f"HTTP {status}: {message}", model=req.model)

    def _error_of(self, r: httpx.Response) -> tuple[str, str | None]:
        try:
            err = r.json().get("error")
        except Exception:  # noqa: BLE001 - any non-JSON error body
            err = None
        if isinstance(err, dict):
            message, code = str(err.get("message") or ""), err.get("code") or err.get("type")
        elif isinstance(err, str):
            message, code = err, None
        else:
            message, code = r.text[:300], None
        return self.redact(message)[:500], (str(code) if code is not None else None)

    def _parse(self, r: httpx.Response, req: Request) -> Response:
        try:
            data = r.json()
            choice = data["choices"][0]
            if req.messages is not None:
                msg = choice["message"]
                text = msg.get("content")
                reasoning = msg.get("reasoning_content") or msg.get("reasoning")
                if reasoning:  # DeepSeek-R1 style: keep the thinking, as the paper's data does
                    text = f"<think>\n{reasoning}\n</think>\n\n{text or ''}"
            else:
                text = choice["text"]
            if not isinstance(text, str):
                raise TypeError(f"text is {type(text).__name__}")
            usage = {k: int(v) for k, v in (data.get("usage") or {}).items() if isinstance(v, int)}
            return Response(text=text, finish_reason=choice.get("finish_reason"), model=data.get("model") or req.model, usage=usage)
        except Exception as exc:  # noqa: BLE001 - a body that is not a completion fails this item only
            snippet = self.redact(r.text[:120]).replace("\n", " ")
            return Response(text=None, error=f"malformed response body ({type(exc).__name__}: {exc}): {snippet!r}", model=req.model)


_SSL: list = []


def _ssl_context() -> Any:
    """One TLS context per process (building one reads the CA bundle: ~40 ms)."""
    if not _SSL:
        _SSL.append(httpx.create_ssl_context())
    return _SSL[0]


def _retry_after(headers: httpx.Headers) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
