"""``llm.openai.mode: batch``: OpenAI's Batch API, the online mode's requests at half the price.

The requests that missed the store are written as JSONL input files, one line per request
(``custom_id`` = the request's store key, the very body the online mode would send), split
so that no file passes ``batch_max_requests`` lines or ``batch_max_bytes`` bytes and each
file goes to one endpoint (one base URL and key, chat or raw completions). Each file is
uploaded (``POST /files``), a batch is created for it (``POST /batches``), and the batches
are polled every ``batch_poll_s`` seconds until they end; then the output and error files
are downloaded and every line is parsed exactly as the online mode parses a response body,
and handed to ``on_result`` (the client stores it).

Creating a batch is what costs money, so every step is journaled under
``<store>/openai_batches/<sha256 of the input file>.json`` (written atomically and
fsynced) before the next one is taken: the uploaded file's id before the batch is created,
the batch id before waiting. A rerun reads the pending entries first and polls every
recorded batch that holds a request it needs instead of submitting that request again.
An entry is moved to ``openai_batches/done/`` once its responses are in the store.

What a paying user should expect from batches that do not simply complete:

* a line that failed inside a completed batch (HTTP 400, 500, ...) is a failed response,
  counted against ``llm.max_failure_share`` as in the online mode and not stored, so the
  next run sends it again, in a new batch;
* an ``expired`` or ``cancelled`` batch: the lines it finished are stored, the rest are
  failed responses ("rerun to send it in a new batch"). They are not resubmitted on their
  own: that would quietly add another day to the run (expired) or undo a cancellation;
* a ``failed`` batch (rejected at validation: nothing ran, nothing is charged) stops the
  run with ``BackendFatalError`` and the server's message.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import urlsplit

import httpx

from ..store.fsutil import fsync_path, write_file
from .base import BackendFatalError, ResultCallback
from .client import response_store
from .openai_backend import RETRY_STATUS, OpenAIBackend, OpenAIConfig, _retry_after, _Retry, _ssl_context
from .request import Request, Response

log = logging.getLogger(__name__)

JOURNAL_DIR = "openai_batches"
COLLECT = frozenset({"completed", "expired", "cancelled"})  # ended: download what it produced
WAIT = frozenset({"validating", "in_progress", "finalizing", "cancelling"})
REPORT_S = 600.0  # a summary line this often while waiting (status changes are logged as they happen)
LIST_PAGES = 20  # batches listed (x100) when looking for one whose creation may have been lost

T = TypeVar("T")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------- planning
@dataclass
class Chunk:
    """One batch input file: requests for one endpoint, within the limits."""

    base_url: str
    api_key_env: str | None
    endpoint: str  # "/v1/chat/completions" or "/v1/completions": the batch's endpoint and each line's url
    keys: list[str] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    size: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(self.lines)


def plan_batches(requests: Sequence[Request], online: OpenAIBackend) -> list[Chunk]:
    """Split the requests into input files: one endpoint each, at most ``batch_max_requests``
    lines and ``batch_max_bytes`` bytes. Deterministic, so the same requests give the same
    files (and the same journal names) on a rerun."""
    cfg = online.config
    open_chunk: dict[tuple[str, str | None, str], Chunk] = {}
    out: list[Chunk] = []
    for req in requests:
        url, body = online.body_for(req)
        base_url, env, _ = cfg.endpoint(req.model)
        endpoint = urlsplit(url).path
        line = (json.dumps({"custom_id": req.key, "method": "POST", "url": endpoint, "body": body},
                           ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        if len(line) > cfg.batch_max_bytes:
            raise BackendFatalError(f"request {req.label} alone is {len(line)} bytes, more than llm.openai.batch_max_bytes="
                                    f"{cfg.batch_max_bytes}; raise it (OpenAI allows 200 MB) or use llm.openai.mode: online")
        group = (base_url, env, endpoint)
        chunk = open_chunk.get(group)
        if chunk is None or len(chunk.keys) >= cfg.batch_max_requests or chunk.size + len(line) > cfg.batch_max_bytes:
            chunk = open_chunk[group] = Chunk(base_url, env, endpoint)
            out.append(chunk)
        chunk.keys.append(req.key)
        chunk.lines.append(line)
        chunk.size += len(line)
    return out


# ----------------------------------------------------------------------- journal
@dataclass
class Entry:
    """What is known about one input file and its batch; never holds the API key."""

    input_sha256: str
    base_url: str
    api_key_env: str | None  # the variable's name, not its value
    endpoint: str
    custom_ids: list[str]
    input_bytes: int
    state: str = "new"  # uploaded -> submitted -> collected -> done
    input_file_id: str | None = None
    batch_id: str | None = None
    batch_status: str | None = None
    failed_ids: list[str] = field(default_factory=list)  # lines that gave no usable response
    note: str | None = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entry":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


class Journal:
    """``root/<input sha256>.json`` per pending batch, ``root/done/`` for finished ones."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha: str) -> Path:
        return self.root / f"{sha}.json"

    def save(self, e: Entry) -> None:
        e.updated_at = _now()
        _write_durably(self.path(e.input_sha256), e)

    def load(self, path: Path) -> Entry:
        try:
            return Entry.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise BackendFatalError(
                f"batch journal file {path} is unreadable ({type(exc).__name__}: {exc}); it may name a paid batch "
                "still to collect: repair it, or move it aside if its batch need not be resumed") from None

    def get(self, sha: str) -> Entry | None:
        path = self.path(sha)
        return self.load(path) if path.exists() else None

    def pending(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        return [self.load(p) for p in sorted(self.root.glob("*.json"))]

    def finish(self, e: Entry, note: str | None = None) -> None:
        """Keep the entry for the record under ``done/``, then drop the pending one."""
        e.state = "done"
        e.note = note or e.note
        e.updated_at = _now()
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", e.batch_id or "no-batch")
        _write_durably(self.root / "done" / f"{e.input_sha256}.{tag}.json", e)
        try:
            os.unlink(self.path(e.input_sha256))
        except FileNotFoundError:
            pass
        fsync_path(self.root)


def _write_durably(path: Path, e: Entry) -> None:
    """Temp file, fsync, rename, fsync the folder: after this returns a power cut keeps it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        os.unlink(tmp)  # left by a killed process that had this pid
    except FileNotFoundError:
        pass
    write_file(tmp, (json.dumps(asdict(e), sort_keys=True, indent=1) + "\n").encode("utf-8"), fsync=True)
    os.replace(tmp, path)
    fsync_path(path.parent)


# ----------------------------------------------------------------------- backend
class OpenAIBatchBackend:
    """The ``openai`` backend with ``mode: batch``; bodies, keys, masking and response
    parsing are the online backend's (``self.online``), so both modes send and store the same."""

    name = "openai-batch"  # the store records' ``backend`` field: where a response came from

    def __init__(self, config: OpenAIConfig, store_root: str | os.PathLike) -> None:
        self.config = config
        self.online = OpenAIBackend(config)
        self.journal = Journal(Path(store_root) / JOURNAL_DIR)
        self.store_root = Path(store_root)
        self.retries = 0  # retried control calls (read by the client for its stats)
        self.submitted = 0  # batches this backend created
        self._clients: dict[str | None, httpx.Client] = {}
        self._collected: list[Entry] = []  # to move to done/ once their responses are in the store
        self._store: Any = None

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None, store_root: str | os.PathLike) -> "OpenAIBatchBackend":
        return cls(OpenAIConfig.from_dict(cfg), store_root)

    # ------------------------------------------------------------------ public
    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        wanted: dict[str, Request] = {}
        for req in requests:
            wanted.setdefault(req.key, req)
        if not wanted:
            return
        for env in {self.config.endpoint(r.model)[1] for r in wanted.values()}:
            self._client(env)  # an unset key variable stops the run before anything is uploaded
        entries = self._resume(wanted)
        covered = {cid for e in entries for cid in e.custom_ids}
        entries += self._submit([r for k, r in wanted.items() if k not in covered])
        self._wait(entries, wanted, on_result)

    def close(self) -> None:
        """Move the batches collected by this backend to done/ once their responses are stored
        (the client has flushed its writes when the caller closes the backend)."""
        try:
            for e in self._collected:
                if self._durable(e):
                    self.journal.finish(e)
            self._collected.clear()
        finally:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def redact(self, text: str) -> str:
        return self.online.redact(text)

    # ------------------------------------------------------------------ resume
    def _resume(self, wanted: dict[str, Request]) -> list[Entry]:
        """The pending journal entries holding any wanted request, ready to poll."""
        out = []
        for e in self.journal.pending():
            if e.batch_id is not None and self._durable(e):
                # collected (its failed lines are submitted again below), or a run was killed
                # after storing every response; another job's batch stops at its first key
                self.journal.finish(e)
                continue
            if not any(cid in wanted for cid in e.custom_ids):
                continue  # another job's batch
            if e.batch_id is None and not self._create(e, resumed=True):
                continue
            out.append(e)
        if out:
            n = sum(1 for e in out for cid in e.custom_ids if cid in wanted)
            log.info("openai batch: resuming %d journaled batch(es) holding %d of the %d requests; "
                     "they are polled, not submitted again", len(out), n, len(wanted))
        return out

    def _durable(self, e: Entry) -> bool:
        """Every line of the batch that gave a response is in the store."""
        if self._store is None:
            self._store = response_store(str(self.store_root))
        failed = set(e.failed_ids)
        return all(cid in self._store for cid in e.custom_ids if cid not in failed)

    # ------------------------------------------------------------------ submit
    def _submit(self, todo: list[Request]) -> list[Entry]:
        chunks = plan_batches(todo, self.online)
        out = []
        for i, chunk in enumerate(chunks, 1):
            data = chunk.data
            sha = hashlib.sha256(data).hexdigest()
            known = self.journal.get(sha)  # the same file from a run that is still going
            if known is not None and known.state != "collected":
                if known.batch_id is not None or self._create(known, resumed=True):
                    out.append(known)
                    continue
            e = Entry(sha, chunk.base_url, chunk.api_key_env, chunk.endpoint, list(chunk.keys), len(data))
            # Killed before the next save, the rerun uploads this file again: an upload costs
            # nothing (only creating a batch does) and the stray file is never used.
            e.input_file_id = self._upload(e, data)
            e.state = "uploaded"
            self.journal.save(e)
            self._create(e, resumed=False)
            log.info("openai batch %d/%d submitted: %s, %d requests, %.1f MB, %s %s", i, len(chunks), e.batch_id,
                     len(e.custom_ids), len(data) / 1e6, e.base_url, e.endpoint)
            out.append(e)
        return out

    def _upload(self, e: Entry, data: bytes) -> str:
        r = self._request(e.api_key_env, "POST", f"{e.base_url}/files", f"uploading a batch input file to {e.base_url}",
                          data={"purpose": "batch"},
                          files={"file": (f"kodcode-{e.input_sha256[:16]}.jsonl", data, "application/jsonl")})
        if r.status_code == 404:
            raise BackendFatalError(f"{e.base_url} has no /files endpoint (HTTP 404), so it cannot take batches; "
                                    "set llm.openai.mode: online for this server")
        return str(self._json(r, "the file upload")["id"])

    def _create(self, e: Entry, resumed: bool) -> bool:
        """Create the batch for an uploaded file and journal its id; False when the file is gone
        (the entry is then finished and its requests submitted afresh).

        A create whose answer is lost (timeout, 5xx) may still have created the batch, and
        retrying blindly would pay twice: before every retry, and before creating for an entry
        that a killed run left without a batch id, the server's batch list is searched for one
        made from this file."""
        need_find = resumed

        def attempt() -> dict[str, Any] | None:
            nonlocal need_find
            if need_find:
                found = self._find_batch(e)
                if found is not None:
                    return found
            need_find = True
            r = self._attempt(e.api_key_env, "POST", f"{e.base_url}/batches", f"creating a batch at {e.base_url}",
                              json={"input_file_id": e.input_file_id, "endpoint": e.endpoint, "completion_window": "24h",
                                    "metadata": {"kodcode_input_sha256": e.input_sha256}})
            if r.status_code == 404:
                return None
            return self._json(r, "the batch creation")

        b = self._retrying(attempt, f"creating a batch at {e.base_url}")
        if b is None:
            self.journal.finish(e, note="the uploaded input file is gone from the server; submitted again")
            return False
        e.batch_id = str(b["id"])
        e.batch_status = b.get("status")
        e.state = "submitted"
        self.journal.save(e)
        self.submitted += 1
        return True

    def _find_batch(self, e: Entry) -> dict[str, Any] | None:
        after: str | None = None
        for _ in range(LIST_PAGES):
            params = {"limit": 100, **({"after": after} if after else {})}
            r = self._attempt(e.api_key_env, "GET", f"{e.base_url}/batches", "listing batches", params=params)
            if r.status_code == 404:
                return None
            page = self._json(r, "the batch list")
            for b in page.get("data") or []:
                if b.get("input_file_id") == e.input_file_id:
                    return b
            after = page.get("last_id")
            if not page.get("has_more") or not after:
                return None
        return None

    # -------------------------------------------------------------------- wait
    def _wait(self, entries: list[Entry], wanted: dict[str, Request], on_result: ResultCallback) -> None:
        active = list(entries)
        delivered: set[str] = set()
        n_total = len(active)
        next_report = time.monotonic() + REPORT_S
        while active:
            for e in list(active):
                b = self._poll(e)
                status = None if b is None else str(b.get("status"))
                if status != e.batch_status:
                    e.batch_status = status
                    self.journal.save(e)
                    counts = (b or {}).get("request_counts") or {}
                    log.info("openai batch %s: %s (%s of %s requests done)", e.batch_id, status,
                             counts.get("completed", "?"), counts.get("total", len(e.custom_ids)))
                if b is None:
                    self._collect(e, {"id": e.batch_id, "status": "unknown to the server"}, wanted, on_result, delivered)
                    active.remove(e)
                elif status in COLLECT:
                    self._collect(e, b, wanted, on_result, delivered)
                    active.remove(e)
                elif status == "failed":
                    self._rejected(e, b)
                elif status not in WAIT:
                    log.warning("openai batch %s: unexpected status %r; still waiting", e.batch_id, status)
            if not active:
                break
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + REPORT_S
                log.info("openai batches: %d submitted, %d waiting (%s), %d done; %d of %d requests collected",
                         n_total, len(active), ", ".join(sorted({str(e.batch_status) for e in active})),
                         n_total - len(active), len(delivered), len(wanted))
            time.sleep(self.config.batch_poll_s)

    def _poll(self, e: Entry) -> dict[str, Any] | None:
        r = self._request(e.api_key_env, "GET", f"{e.base_url}/batches/{e.batch_id}", f"checking batch {e.batch_id}")
        return None if r.status_code == 404 else self._json(r, f"batch {e.batch_id}")

    def _rejected(self, e: Entry, b: dict[str, Any]) -> None:
        errors = ((b.get("errors") or {}).get("data")) or []
        detail = "; ".join(f"{x.get('code')}: {x.get('message')}" + (f" (line {x['line']})" if x.get("line") else "")
                           for x in errors[:3]) or "no reason given"
        self.journal.finish(e, note=f"failed: {self.redact(detail)}")
        raise BackendFatalError(
            f"{e.base_url} rejected batch {e.batch_id} ({self.redact(detail)[:500]}); nothing in it ran or was charged. "
            "Fix the cause (llm.openai.models, llm.openai.batch_max_requests / batch_max_bytes, or the account's batch "
            "limits) or set llm.openai.mode: online, then rerun; other batches are journaled and resumed")

    def _collect(self, e: Entry, b: dict[str, Any], wanted: dict[str, Request], on_result: ResultCallback,
                 delivered: set[str]) -> None:
        lines: dict[str, dict[str, Any]] = {}
        for fid in (b.get("error_file_id"), b.get("output_file_id")):  # the output last: a 200 line wins
            if fid:
                for raw in self._download(e, str(fid)).splitlines():
                    try:
                        obj = json.loads(raw) if raw.strip() else None
                    except ValueError:
                        obj = None
                    if isinstance(obj, dict):  # anything else leaves its request without a response: failed
                        lines[str(obj.get("custom_id"))] = obj
        failed = set(e.failed_ids)
        for cid in e.custom_ids:
            line = lines.get(cid)
            req = wanted.get(cid)
            if req is None:  # not asked for now: stored already, or another job's
                if line is None or (line.get("response") or {}).get("status_code") != 200:
                    failed.add(cid)
                continue
            resp = self._response_of(line, req, b)
            if not resp.ok:
                failed.add(cid)
            if cid not in delivered:
                delivered.add(cid)
                on_result(req, resp)
        e.failed_ids = sorted(failed)
        e.state = "collected"
        self.journal.save(e)
        self._collected.append(e)
        log.info("openai batch %s: %s, %d responses collected, %d failed", e.batch_id, b.get("status"),
                 len(e.custom_ids) - len(failed), len(failed))

    def _download(self, e: Entry, file_id: str) -> str:
        r = self._request(e.api_key_env, "GET", f"{e.base_url}/files/{file_id}/content",
                          f"downloading file {file_id} of batch {e.batch_id}")
        if r.status_code == 404:
            raise BackendFatalError(f"{e.base_url}: file {file_id} of batch {e.batch_id} is gone (HTTP 404); "
                                    f"its requests cannot be collected: move {self.journal.path(e.input_sha256)} "
                                    "aside and rerun to submit them again")
        return r.content.decode("utf-8")

    def _response_of(self, line: dict[str, Any] | None, req: Request, b: dict[str, Any]) -> Response:
        """A batch line -> the Response the online mode builds from the same body."""
        where = f"batch {b.get('id')}"
        if line is None:
            return Response(text=None, model=req.model,
                            error=f"{where} ended {b.get('status')} before this request ran; rerun to send it in a new batch")
        resp = line.get("response")
        if isinstance(resp, dict) and resp.get("status_code") is not None:
            status = int(resp["status_code"])
            r = httpx.Response(status, content=json.dumps(resp.get("body")).encode("utf-8"))
            if status == 200:
                return self.online._parse(r, req)
            message, _ = self.online._error_of(r)
            return Response(text=None, error=f"HTTP {status}: {message} (in {where})", model=req.model)
        err = line.get("error") or {}
        code = str(err.get("code") or "error")
        message = self.redact(str(err.get("message") or "no response"))[:500]
        advice = "; rerun to send it in a new batch" if code in ("batch_expired", "batch_cancelled") else ""
        return Response(text=None, error=f"{code}: {message} (in {where}){advice}", model=req.model)

    # -------------------------------------------------------------------- HTTP
    def _client(self, env: str | None) -> httpx.Client:
        client = self._clients.get(env)
        if client is None:
            headers = {k: v for k, v in self.online._headers(env).items() if k != "Content-Type"}  # uploads are multipart
            timeout = httpx.Timeout(self.config.timeout_s, connect=min(self.config.timeout_s, 30.0))
            client = self._clients[env] = httpx.Client(headers=headers, timeout=timeout, verify=_ssl_context())
        return client

    def _request(self, env: str | None, method: str, url: str, what: str, **kw: Any) -> httpx.Response:
        """One control call, retried while the failure is worth retrying; 2xx and 404 come back."""
        return self._retrying(lambda: self._attempt(env, method, url, what, **kw), what)

    def _retrying(self, attempt: Callable[[], T], what: str) -> T:
        n = 0
        while True:
            try:
                return attempt()
            except _Retry as r:
                if n >= self.config.max_retries:
                    raise BackendFatalError(
                        f"{what}: {r.reason}; gave up after {n + 1} attempts (llm.openai.max_retries). Submitted batches "
                        f"are journaled in {self.journal.root}: rerun to resume them without paying again") from None
                delay = self.online._delay(n, r.retry_after)
                log.debug("%s: retrying in %.1fs: %s", what, delay, r.reason)
                n += 1
                self.retries += 1
                time.sleep(delay)

    def _attempt(self, env: str | None, method: str, url: str, what: str, **kw: Any) -> httpx.Response:
        try:
            r = self._client(env).request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out ({type(exc).__name__}, timeout_s={self.config.timeout_s})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({type(exc).__name__}: {self.redact(str(exc))[:200]})") from None
        status = r.status_code
        if status < 300 or status == 404:
            return r
        message, code = self.online._error_of(r)
        if status in (401, 403):
            source = f"the API key from ${env}" if env else "the request (no API key configured)"
            raise BackendFatalError(f"{what}: the server refused {source} (HTTP {status}: {message}); "
                                    "check the key and its permissions (llm.openai.api_key_env)")
        if status == 429 and code == "insufficient_quota":
            raise BackendFatalError(f"{what}: the account has no quota left (HTTP 429: {message})")
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}: {message}", _retry_after(r.headers))
        raise BackendFatalError(f"{what}: HTTP {status}: {message}; check llm.openai.batch_max_requests / "
                                "batch_max_bytes against the provider's batch limits, or set llm.openai.mode: online")

    def _json(self, r: httpx.Response, what: str) -> dict[str, Any]:
        try:
            obj = r.json()
            if isinstance(obj, dict) and (obj.get("id") is not None or obj.get("object") == "list"):
                return obj
        except ValueError:
            pass
        raise BackendFatalError(f"{what}: the server's answer is not an OpenAI Batch API object "
                                f"({self.redact(r.text[:120])!r}); does llm.openai.base_url serve the Batch API?")
