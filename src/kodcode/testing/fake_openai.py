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

It also serves OpenAI's Batch API: ``POST /v1/files`` (multipart, ``purpose=batch``),
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches`` (the list, newest
first) and ``GET /v1/batches/{id}``. A batch is ``in_progress`` for ``batch_delay_s`` seconds
after it is created, then ``completed``; each line is answered exactly as the online
endpoint answers its body. Files over ``batch_max_bytes`` are refused at upload and batches
over ``batch_max_requests`` lines fail validation, as OpenAI's do. Counters
(``files_uploaded``, ``batches_created``, ``batch_lines``) let tests check what was paid for.
Directives in a line's prompt:

``[[batchfail]]``  the whole batch fails validation (status ``failed``)
``[[expire]]``     the batch ends ``expired``; this line is in the error file as not run
``[[400]]``        this line's response is HTTP 400 (in the error file)
``[[500:N]]``      this line's response is HTTP 500 (N is ignored: a batch runs a line once)

Setting ``batch_create_fails`` to N makes the next N batch creations create the batch and
then answer 500 anyway (a lost response), so a client that retries blindly pays twice.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

_DIRECTIVE = re.compile(r"\[\[(429|500|slow|malformed|nochoices|400)(?::([\d.]+))?(?::([\d.]+))?\]\]")
_BATCH_DIRECTIVE = re.compile(r"\[\[(batchfail|expire|400|500)(?::[\d.]+)*\]\]")


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def answer_for(body: dict[str, Any]) -> str:
    """The text the server returns for a request body (deterministic)."""
    return f"answer-{fingerprint(body)[:16]}"


def _prompt_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
    return str(body.get("prompt", ""))


def completion_payload(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The 200 body answering one request (online, or one line of a batch)."""
    fp = fingerprint(body)
    n_words = len(_prompt_text(body).split())
    usage = {"prompt_tokens": n_words, "completion_tokens": 2, "total_tokens": n_words + 2}
    answer = answer_for(body)
    if kind == "chat":
        choice = {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
        obj = "chat.completion"
    else:
        choice = {"index": 0, "text": answer, "finish_reason": "stop"}
        obj = "text_completion"
    return {"id": f"cmpl-{fp[:8]}", "object": obj, "model": body.get("model"), "choices": [choice], "usage": usage}


def _error_body(message: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "fake_error", "code": code}}


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
        # the Batch API
        self.batch_delay_s = 0.0
        self.batch_max_requests = 50_000
        self.batch_max_bytes = 200_000_000
        self.batch_create_fails = 0
        self.files: dict[str, dict[str, Any]] = {}  # file id -> {bytes, purpose, filename}
        self.batches: dict[str, dict[str, Any]] = {}  # batch id -> the batch object (+ private fields)
        self.files_uploaded = 0
        self.batches_created = 0
        self.batch_polls = 0
        self.batch_lines: Counter[str] = Counter()  # fingerprint -> lines received in created batches
        self._ids = itertools.count(1)
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
        if "/files" in route or "/batches" in route:
            with self.lock:
                self.auth_headers.append(headers.get("authorization", ""))
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return error(401, "Incorrect API key provided.", "invalid_api_key")
            status, obj = self._batch_api(method, route, path.partition("?")[2], headers, raw)
            payload = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            return status, payload, {}
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

        payload = completion_payload(body, kind)
        with self.lock:
            self.answered[fp] += 1
        return 200, json.dumps(payload).encode(), {}

    # -------------------------------------------------------------- the Batch API
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    def _batch_api(self, method: str, route: str, query: str, headers: dict[str, str],
                   raw: bytes) -> tuple[int, dict[str, Any] | bytes]:
        parts = route.split("/")
        tail = parts[parts.index("files" if "/files" in route else "batches"):]
        with self.lock:
            if method == "POST" and tail == ["files"]:
                return self._upload(headers.get("content-type", ""), raw)
            if method == "GET" and len(tail) == 3 and tail[0] == "files" and tail[2] == "content":
                f = self.files.get(tail[1])
                return (200, f["bytes"]) if f else (404, _error_body(f"No such File object: {tail[1]}", "not_found"))
            if method == "POST" and tail == ["batches"]:
                return self._create_batch(raw)
            if method == "GET" and tail == ["batches"]:
                return self._list_batches(parse_qs(query))
            if method == "GET" and len(tail) == 2 and tail[0] == "batches":
                self.batch_polls += 1
                b = self.batches.get(tail[1])
                if b is None:
                    return 404, _error_body(f"No such Batch object: {tail[1]}", "not_found")
                return 200, self._public(self._advance(b))
        return 404, _error_body(f"no route {method} {route}", "not_found")

    def _upload(self, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        if fields.get("purpose", (None, b""))[1] != b"batch" or "file" not in fields:
            return 400, _error_body("expected multipart fields purpose=batch and file", "invalid_request")
        filename, data = fields["file"]
        if len(data) > self.batch_max_bytes:
            return 400, _error_body(f"File is {len(data)} bytes, over the limit of {self.batch_max_bytes}.", "file_too_large")
        fid = self._new_id("file")
        self.files[fid] = {"bytes": data, "purpose": "batch", "filename": filename}
        self.files_uploaded += 1
        return 200, {"id": fid, "object": "file", "bytes": len(data), "filename": filename, "purpose": "batch",
                     "created_at": int(time.time())}

    def _create_batch(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            req = json.loads(raw)
        except json.JSONDecodeError:
            return 400, _error_body("body is not JSON", "invalid_json")
        f = self.files.get(req.get("input_file_id"))
        if f is None:
            return 404, _error_body(f"No such File object: {req.get('input_file_id')}", "not_found")
        if req.get("completion_window") != "24h" or req.get("endpoint") not in ("/v1/chat/completions", "/v1/completions"):
            return 400, _error_body("completion_window must be 24h and endpoint a completions endpoint", "invalid_request")
        bid = self._new_id("batch")
        b: dict[str, Any] = {
            "id": bid, "object": "batch", "endpoint": req["endpoint"], "input_file_id": req["input_file_id"],
            "completion_window": "24h", "status": "validating", "output_file_id": None, "error_file_id": None,
            "errors": None, "created_at": int(time.time()), "metadata": req.get("metadata"),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "_created": time.monotonic(), "_lines": [], "_errors": [],
        }
        lines = [ln for ln in f["bytes"].decode("utf-8").splitlines() if ln.strip()]
        seen: set[str] = set()
        for i, ln in enumerate(lines, 1):
            try:
                obj = json.loads(ln)
                cid, body = obj["custom_id"], obj["body"]
                assert obj["method"] == "POST" and obj["url"] == req["endpoint"] and cid not in seen
            except Exception:  # noqa: BLE001 - any malformed line fails the batch, as OpenAI's validation does
                b["_errors"].append({"code": "invalid_request", "message": f"line {i} is not a valid request", "line": i})
                continue
            seen.add(cid)
            b["_lines"].append((cid, body))
            self.batch_lines[fingerprint(body)] += 1
            if "[[batchfail]]" in _prompt_text(body):
                b["_errors"].append({"code": "invalid_request", "message": f"line {i}: the model rejected it", "line": i})
        if len(lines) > self.batch_max_requests:
            b["_errors"].append({"code": "too_many_requests",
                                 "message": f"{len(lines)} requests, over the limit of {self.batch_max_requests}", "line": None})
        b["request_counts"]["total"] = len(lines)
        self.batches[bid] = b
        self.batches_created += 1
        if self.batch_create_fails > 0:
            self.batch_create_fails -= 1
            return 500, _error_body("The server had an error while processing your request.", "server_error")
        return 200, self._public(b)

    def _advance(self, b: dict[str, Any]) -> dict[str, Any]:
        """Move a batch along by the clock: validation, then ``batch_delay_s`` of work."""
        if b["status"] in ("completed", "failed", "expired", "cancelled"):
            return b
        if b["_errors"]:
            b["status"] = "failed"
            b["errors"] = {"object": "list", "data": b["_errors"]}
            return b
        if time.monotonic() - b["_created"] < self.batch_delay_s:
            b["status"] = "in_progress"
            return b
        out, err = [], []
        expired = False
        for cid, body in b["_lines"]:
            text = _prompt_text(body)
            names = {m.group(1) for m in _BATCH_DIRECTIVE.finditer(text)}
            if "expire" in names:
                expired = True
                err.append({"id": self._new_id("req"), "custom_id": cid, "response": None, "error": {
                    "code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
                continue
            status = 400 if "400" in names else 500 if "500" in names else 200
            kind = "chat" if b["endpoint"].endswith("/chat/completions") else "completion"
            body_out = completion_payload(body, kind) if status == 200 else _error_body(
                "Invalid request." if status == 400 else "The server had an error.",
                "invalid_request" if status == 400 else "server_error")
            line = {"id": self._new_id("req"), "custom_id": cid,
                    "response": {"status_code": status, "request_id": self._new_id("rq"), "body": body_out}, "error": None}
            (out if status == 200 else err).append(line)
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = self._new_id("file")
                self.files[fid] = {"bytes": "".join(json.dumps(r) + "\n" for r in rows).encode(), "purpose": "batch_output",
                                   "filename": f"{b['id']}_{name}.jsonl"}
                b[name] = fid
        b["status"] = "expired" if expired else "completed"
        b["request_counts"].update(completed=len(out), failed=len(err))
        return b

    def _list_batches(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        limit = int((query.get("limit") or ["20"])[0])
        after = (query.get("after") or [None])[0]
        ids = sorted(self.batches, reverse=True)  # newest first: ids count up
        if after in ids:
            ids = ids[ids.index(after) + 1:]
        page = ids[:limit]
        return 200, {"object": "list", "data": [self._public(self._advance(self.batches[i])) for i in page],
                     "first_id": page[0] if page else None, "last_id": page[-1] if page else None,
                     "has_more": len(ids) > limit}

    @staticmethod
    def _public(b: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in b.items() if not k.startswith("_")}


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
