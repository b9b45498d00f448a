"""A small OpenAI-compatible HTTP server for tests and benchmarks; binds 127.0.0.1 only.

Used by the ``openai`` backend's tests and ``bench/llm_client.py``; the workflow never
imports it.

It answers ``POST /v1/chat/completions`` and ``POST /v1/completions`` with a text that
is a pure function of the request body, after a fixed delay, and counts every request
it receives per body fingerprint, so tests can check that nothing is asked twice.

Failure modes are chosen per request by directives written into the prompt text:

``[[429:N:S]]``   the first N attempts get 429 with ``Retry-After: S``
``[[500:N]]``     the first N attempts get 500
``[[slow:N:S]]``  the first N attempts wait S seconds before answering
``[[malformed]]`` 200 with a body that is not JSON
``[[nochoices]]`` 200 with JSON that has no ``choices``
``[[400]]``       400 invalid request (not retryable)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
from collections import Counter
from typing import Any

_DIRECTIVE = re.compile(r"\[\[(429|500|slow|malformed|nochoices|400)(?::([\d.]+))?(?::([\d.]+))?\]\]")


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def answer_for(body: dict[str, Any]) -> str:
    """The text the server returns for a request body (deterministic)."""
    return f"answer-{fingerprint(body)[:16]}"


def _prompt_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
    return str(body.get("prompt", ""))


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error"}


class FakeOpenAIServer:
    """Serves on its own asyncio loop in a background thread (one thread, so many open
    connections cost no lock convoys); counters are safe to read from other threads."""

    def __init__(self, delay_s: float = 0.0, api_key: str | None = None, models: set[str] | None = None) -> None:
        self.delay_s = delay_s
        self.api_key = api_key
        self.models = models
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()  # fingerprint -> requests received
        self.answered: Counter[str] = Counter()  # fingerprint -> 200 answers sent
        self.auth_headers: list[str] = []
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> "FakeOpenAIServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=2048)
                )
                self._port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                loop.run_until_complete(self._server.wait_closed())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            loop = self._loop

            def _stop() -> None:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.stop()

            loop.call_soon_threadsafe(_stop)
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._port is not None, "server not started"
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def total_received(self) -> int:
        with self.lock:
            return sum(self.received.values())

    def reset_counts(self) -> None:
        with self.lock:
            self.received.clear()
            self.answered.clear()

    # ------------------------------------------------------------------ serving
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self.lock:
            self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                try:
                    method, path, _ = line.decode("latin-1").split(" ", 2)
                except ValueError:
                    return
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload, extra = await self._respond(method, path, headers, raw)
                head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
                        "Content-Type: application/json", f"Content-Length: {len(payload)}"]
                head += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _respond(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        def error(status: int, message: str, code: str | None, extra: dict[str, str] | None = None):
            body = {"error": {"message": message, "type": "fake_error", "code": code}}
            return status, json.dumps(body).encode(), extra or {}

        route = path.split("?")[0].rstrip("/")
        if method != "POST" or not route.endswith("/completions"):
            return error(404, f"no route {method} {path}", "not_found")
        kind = "chat" if route.endswith("/chat/completions") else "completion"
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return error(400, "body is not JSON", "invalid_json")
        fp = fingerprint(body)
        with self.lock:
            self.received[fp] += 1
            attempt = self.received[fp]  # 1-based
            self.auth_headers.append(headers.get("authorization", ""))
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.models is not None and body.get("model") not in self.models:
            return error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")

        text = _prompt_text(body)
        for name, a, b in _DIRECTIVE.findall(text):
            n = int(float(a)) if a else 1
            if name == "429" and attempt <= n:
                return error(429, "Rate limit reached.", "rate_limit_exceeded", {"Retry-After": b or "1"})
            if name == "500" and attempt <= n:
                return error(500, "The server had an error.", "server_error")
            if name == "slow" and attempt <= n:
                await asyncio.sleep(float(b or 1))
            if name == "malformed":
                return 200, b'{"choices": [ this is not json', {}
            if name == "nochoices":
                return 200, json.dumps({"id": "x", "object": "chat.completion"}).encode(), {}
            if name == "400":
                return error(400, "Invalid request.", "invalid_request")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)

        answer = answer_for(body)
        n_words = len(text.split())
        usage = {"prompt_tokens": n_words, "completion_tokens": 2, "total_tokens": n_words + 2}
        if kind == "chat":
            choice = {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": answer, "finish_reason": "stop"}
            obj = "text_completion"
        payload = {"id": f"cmpl-{fp[:8]}", "object": obj, "model": body.get("model"), "choices": [choice], "usage": usage}
        with self.lock:
            self.answered[fp] += 1
        return 200, json.dumps(payload).encode(), {}


def main(argv: list[str] | None = None) -> int:
    """Run the server in the foreground: ``python -m kodcode.testing.fake_openai --delay 0.05``.

    Prints its base URL on the first line, so a parent process can read it."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer (default 0)")
    args = parser.parse_args(argv)
    srv = FakeOpenAIServer(delay_s=args.delay).start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
