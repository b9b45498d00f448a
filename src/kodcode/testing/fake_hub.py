"""A local stand-in for the Hugging Face hub's HTTP API, for ``kodcode publish`` tests; binds
127.0.0.1 only, keeps everything in memory. The workflow never imports it.

It answers the calls ``huggingface_hub.HfApi`` makes for ``create_repo``, ``create_branch``
and ``create_commit``:

``POST /api/repos/create``                          a repo (409 when it exists)
``POST /api/validate-yaml``                         the card's YAML header parses (400 if not)
``POST /api/{type}s/{org}/{name}/branch/{branch}``  a branch (409 when it exists)
``POST /api/{type}s/{org}/{name}/preupload/{rev}``  upload mode per file
``POST /api/{type}s/{org}/{name}/commit/{rev}``     an ndjson commit: header + files

Every file is answered ``uploadMode: regular`` at preupload, so ``huggingface_hub`` sends it
base64-encoded inside the commit itself: parquet files too, which the real hub would take
through LFS/Xet. The LFS and Xet transfer protocols are not emulated; what is checked is
which files, with which bytes, reach which repo and revision.

Each request must carry ``Authorization: Bearer <token>`` with the server's token (401
otherwise). The token is compared, never stored in the request log. ``HubState.repos``
holds ``{(type, repo_id): {revision: {path: bytes}}}``, ``HubState.requests`` one
``(method, path)`` per request.

Use::

    with FakeHub(token="hf_test") as hub:
        HfApi(endpoint=hub.url, token="hf_test").create_repo("org/name", repo_type="dataset")
        hub.state.repos[("dataset", "org/name")]["main"]
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

_REPO_PATH = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)/(preupload|commit|branch)/(.+)$")
_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


@dataclass
class HubState:
    repos: dict[tuple[str, str], dict[str, dict[str, bytes]]] = field(default_factory=dict)
    private: dict[tuple[str, str], bool] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)  # {repo, revision, summary, files}
    unauthorized: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # quiet: tests read HubState instead
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            self.send_header("X-Error-Message", body.get("error", ""))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:  # noqa: N802
        self._body()
        self.server.state.requests.append(("GET", urlsplit(self.path).path))
        self._send(404, {"error": "not served by the fake hub"})

    def do_POST(self) -> None:  # noqa: N802
        state, raw = self.server.state, self._body()
        path = unquote(urlsplit(self.path).path)
        with state.lock:
            state.requests.append(("POST", path))
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            with state.lock:
                state.unauthorized += 1
            return self._send(401, {"error": "Invalid username or password."})
        try:
            if path == "/api/repos/create":
                return self._create_repo(json.loads(raw or b"{}"))
            if path == "/api/validate-yaml":
                return self._validate_yaml(json.loads(raw or b"{}"))
            m = _REPO_PATH.match(path)
            if m:
                key = (_TYPES[m.group(1)], m.group(2))
                if key not in state.repos:
                    return self._send(404, {"error": "Repository not found"})
                action, rev = m.group(3), m.group(4)
                if action == "branch":
                    return self._branch(key, rev)
                if rev not in state.repos[key]:
                    return self._send(404, {"error": f"Invalid rev id: {rev}"})
                if action == "preupload":
                    return self._preupload(json.loads(raw or b"{}"))
                return self._commit(key, rev, raw)
        except (ValueError, KeyError) as exc:
            return self._send(400, {"error": f"bad request: {exc}"})
        return self._send(404, {"error": f"not served by the fake hub: {path}"})

    def _create_repo(self, body: dict[str, Any]) -> None:
        repo_type = body.get("type") or "model"
        repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
        key = (repo_type, repo_id)
        state = self.server.state
        with state.lock:
            if key in state.repos:
                return self._send(409, {"error": "You already created this repo", "url": self._url(key)})
            state.repos[key] = {"main": {}}
            state.private[key] = body.get("visibility") == "private" or bool(body.get("private"))
        self._send(200, {"url": self._url(key), "name": repo_id})

    def _url(self, key: tuple[str, str]) -> str:
        prefix = "" if key[0] == "model" else f"{key[0]}s/"
        return f"{self.server.url}/{prefix}{key[1]}"

    def _validate_yaml(self, body: dict[str, Any]) -> None:
        import yaml

        content = body.get("content") or ""
        m = re.match(r"---[ \t]*\n(.*?\n)---", content, re.S)
        try:
            if m:
                yaml.safe_load(m.group(1))
        except yaml.YAMLError as exc:
            return self._send(400, {"errors": [{"message": str(exc).splitlines()[0]}], "error": "Invalid metadata"})
        self._send(200, {"errors": [], "warnings": []})

    def _branch(self, key: tuple[str, str], branch: str) -> None:
        state = self.server.state
        with state.lock:
            if branch in state.repos[key]:
                return self._send(409, {"error": "Reference already exists"})
            state.repos[key][branch] = dict(state.repos[key]["main"])
        self._send(200, {})

    def _preupload(self, body: dict[str, Any]) -> None:
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                 for f in body.get("files", [])]
        self._send(200, {"files": files, "commitOid": "0" * 40})

    def _commit(self, key: tuple[str, str], rev: str, raw: bytes) -> None:
        header: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for line in raw.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                header = value
            elif item["key"] == "file":
                if value.get("encoding") != "base64":
                    raise ValueError(f"{value.get('path')}: encoding {value.get('encoding')!r}")
                files[value["path"]] = base64.b64decode(value["content"])
            else:
                raise ValueError(f"operation {item['key']!r} is not supported by the fake hub")
        if not header.get("summary"):
            raise ValueError("commit without a summary")
        oid = hashlib.sha1(json.dumps([key, rev, sorted((p, hashlib.sha256(b).hexdigest()) for p, b in files.items()),
                                       len(self.server.state.commits)]).encode()).hexdigest()
        state = self.server.state
        with state.lock:
            state.repos[key][rev].update(files)
            state.commits.append({"repo": key, "revision": rev, "summary": header["summary"], "files": sorted(files)})
        prefix = "" if key[0] == "model" else f"{key[0]}s/"
        self._send(200, {"commitUrl": f"{self.server.url}/{prefix}{key[1]}/commit/{oid}", "commitOid": oid,
                         "success": True})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HubState
    token: str
    url: str


class FakeHub:
    """The stand-in, serving on a free port of 127.0.0.1 in a background thread."""

    def __init__(self, token: str):
        self.state = HubState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state, self._server.token = self.state, token
        self.url = self._server.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
