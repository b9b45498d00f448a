"""A small OpenAI-compatible HTTP server for tests and benchmarks; binds 127.0.0.1 only.

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

import hashlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True


class FakeOpenAIServer:
    def __init__(self, delay_s: float = 0.0, api_key: str | None = None, models: set[str] | None = None) -> None:
        self.delay_s = delay_s
        self.api_key = api_key
        self.models = models
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()  # fingerprint -> requests received
        self.answered: Counter[str] = Counter()  # fingerprint -> 200 answers sent
        self.auth_headers: list[str] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> "FakeOpenAIServer":
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_owner: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
        pass

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    def _error(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        body = {"error": {"message": message, "type": "fake_error", "code": code}}
        self._send(status, json.dumps(body).encode(), headers)

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        kind = "chat" if self.path.rstrip("/").endswith("/chat/completions") else (
            "completion" if self.path.rstrip("/").endswith("/completions") else None
        )
        if kind is None:
            self._error(404, f"no route {self.path}", "not_found")
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._error(400, "body is not JSON", "invalid_json")
            return
        fp = fingerprint(body)
        with owner.lock:
            owner.received[fp] += 1
            attempt = owner.received[fp]  # 1-based
            owner.auth_headers.append(self.headers.get("Authorization", ""))
        if owner.api_key is not None and self.headers.get("Authorization") != f"Bearer {owner.api_key}":
            self._error(401, "Incorrect API key provided.", "invalid_api_key")
            return
        if owner.models is not None and body.get("model") not in owner.models:
            self._error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
            return

        text = _prompt_text(body)
        for name, a, b in _DIRECTIVE.findall(text):
            n = int(float(a)) if a else 1
            if name == "429" and attempt <= n:
                self._error(429, "Rate limit reached.", "rate_limit_exceeded", {"Retry-After": b or "1"})
                return
            if name == "500" and attempt <= n:
                self._error(500, "The server had an error.", "server_error")
                return
            if name == "slow" and attempt <= n:
                time.sleep(float(b or 1))
            if name == "malformed":
                self._send(200, b'{"choices": [ this is not json')
                return
            if name == "nochoices":
                self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
                return
            if name == "400":
                self._error(400, "Invalid request.", "invalid_request")
                return
        if owner.delay_s:
            time.sleep(owner.delay_s)

        answer = answer_for(body)
        usage = {"prompt_tokens": len(text.split()), "completion_tokens": 2, "total_tokens": len(text.split()) + 2}
        if kind == "chat":
            choice = {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": answer, "finish_reason": "stop"}
            obj = "text_completion"
        payload = {"id": f"cmpl-{fp[:8]}", "object": obj, "model": body.get("model"), "choices": [choice], "usage": usage}
        with owner.lock:
            owner.answered[fp] += 1
        self._send(200, json.dumps(payload).encode())


def main(argv: list[str] | None = None) -> int:
    """Run the server in the foreground: ``python -m kodcode.llm.fakeserver --delay 0.05``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0)
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
