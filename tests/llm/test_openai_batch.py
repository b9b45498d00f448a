"""``llm.openai.mode: batch`` against a local server implementing OpenAI's files and batches
endpoints: splitting, collecting, failures, keys, and a run killed mid-wait that resumes
without paying for its batches again."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kodcode.llm.backends import LazyBackend, make_backend
from kodcode.llm.base import BackendFatalError
from kodcode.llm.client import response_store, run_requests
from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig
from kodcode.llm.openai_batch import JOURNAL_DIR, Journal, OpenAIBatchBackend, plan_batches
from kodcode.llm.request import Request
from kodcode.testing.fake_openai import FakeOpenAIServer, answer_for, fingerprint

from ._child import batch
from .conftest import chat

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "tests.llm._child"]


def batch_backend(srv: FakeOpenAIServer, store_root: Path, **kw) -> OpenAIBatchBackend:
    kw.setdefault("api_key_env", None)
    kw.setdefault("batch_poll_s", 0.02)
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("backoff_max_s", 0.05)
    return OpenAIBatchBackend(OpenAIConfig(base_url=srv.base_url, mode="batch", **kw), store_root)


def raw(i: int) -> Request:
    return Request("questions", f"p{i}", 0, "qwen", prompt=f"<|im_start|>user\nWrite a python function {i}", seed=i)


def journal_files(store_root: Path) -> tuple[list[Path], list[Path]]:
    root = store_root / JOURNAL_DIR
    return sorted(root.glob("*.json")), sorted((root / "done").glob("*.json"))


# ---------------------------------------------------------------------------- planning
def test_plan_splits_by_count_bytes_and_endpoint():
    cfg = OpenAIConfig(base_url="https://a.example/v1", api_key_env=None, batch_max_requests=3,
                       models={"r1": {"base_url": "https://b.example/v1", "api_key_env": "B_KEY", "model": "reasoner"}})
    online = OpenAIBackend(cfg)
    reqs = [chat(i) for i in range(7)] + [raw(1), raw(2)] + [chat(i, model="r1") for i in range(2)]
    chunks = plan_batches(reqs, online)
    shape = [(c.base_url, c.api_key_env, c.endpoint, len(c.keys)) for c in chunks]
    assert shape == [("https://a.example/v1", None, "/v1/chat/completions", 3),
                     ("https://a.example/v1", None, "/v1/chat/completions", 3),
                     ("https://a.example/v1", None, "/v1/chat/completions", 1),
                     ("https://a.example/v1", None, "/v1/completions", 2),
                     ("https://b.example/v1", "B_KEY", "/v1/chat/completions", 2)]
    # each line is the body the online mode sends, under the request's store key
    by_key = {r.key: r for r in reqs}
    for c in chunks:
        for line in c.data.decode().splitlines():
            obj = json.loads(line)
            assert obj["method"] == "POST" and obj["url"] == c.endpoint
            assert obj["body"] == online.body_for(by_key[obj["custom_id"]])[1]
    assert chunks[-1].lines and json.loads(chunks[-1].lines[0])["body"]["model"] == "reasoner"

    # by bytes: room for two lines of this size, never more
    size = max(len(line) for c in chunks for line in c.lines)
    online = OpenAIBackend(OpenAIConfig(api_key_env=None, batch_max_bytes=2 * size + 1))
    chunks = plan_batches([chat(i) for i in range(7)], online)
    assert [len(c.keys) for c in chunks] == [2, 2, 2, 1] and all(len(c.data) <= 2 * size + 1 for c in chunks)
    # deterministic: the same requests make the same files (the journal's names)
    assert [c.data for c in plan_batches([chat(i) for i in range(7)], online)] == [c.data for c in chunks]

    with pytest.raises(BackendFatalError, match="llm.openai.batch_max_bytes"):
        plan_batches([chat(1)], OpenAIBackend(OpenAIConfig(api_key_env=None, batch_max_bytes=50)))


# ------------------------------------------------------------------------ normal runs
def test_batch_run_stores_everything_and_a_second_run_sends_nothing(tmp_path):
    with FakeOpenAIServer() as srv:
        srv.batch_max_requests = 4  # the server enforces what the config promises
        srv.batch_delay_s = 0.1
        b = batch_backend(srv, tmp_path, batch_max_requests=4)
        reqs = [chat(i) for i in range(10)] + [raw(1)]
        store = response_store(tmp_path)
        out, stats = run_requests(reqs, b, store, progress=False)
        b.close()
        assert [r.text for r in out] == [answer_for(b.online.body_for(r)[1]) for r in reqs]
        assert all(r.ok and r.finish_reason == "stop" for r in out)
        assert stats.generated == 11 and stats.failures == 0 and len(store) == 11
        assert srv.batches_created == 4 and srv.files_uploaded == 4  # 4 + 4 + 2 chat, 1 raw completion
        assert srv.total_received == 0  # nothing went to the online endpoints
        assert all(n == 1 for n in srv.batch_lines.values()) and len(srv.batch_lines) == 11
        pending, done = journal_files(tmp_path)
        assert pending == [] and len(done) == 4
        assert all(json.loads(p.read_text())["state"] == "done" for p in done)

        before = (srv.batches_created, srv.files_uploaded, srv.batch_polls)
        out2, stats2 = run_requests(reqs, batch_backend(srv, tmp_path), store, progress=False)
        assert stats2.cache_hits == 11 and [r.text for r in out2] == [r.text for r in out]
        assert (srv.batches_created, srv.files_uploaded, srv.batch_polls) == before


def test_entries_left_pending_by_a_killed_run_are_closed_by_the_next(tmp_path):
    with FakeOpenAIServer() as srv:
        store = response_store(tmp_path)
        run_requests([chat(i) for i in range(3)], batch_backend(srv, tmp_path), store, progress=False)  # no close()
        assert [e.state for e in Journal(tmp_path / JOURNAL_DIR).pending()] == ["collected"]
        b = batch_backend(srv, tmp_path)
        run_requests([chat(i) for i in range(3, 5)], b, store, progress=False)
        b.close()
        assert journal_files(tmp_path)[0] == [] and len(journal_files(tmp_path)[1]) == 2


def test_batch_and_online_store_the_same_record(tmp_path):
    reqs = [chat(1), chat(2, max_tokens=77, stop=("```",)), raw(3)]
    with FakeOpenAIServer() as srv:
        online = OpenAIBackend(OpenAIConfig(base_url=srv.base_url, api_key_env=None))
        run_requests(reqs, online, response_store(tmp_path / "online"), progress=False)
        b = batch_backend(srv, tmp_path / "batch")
        run_requests(reqs, b, response_store(tmp_path / "batch"), progress=False)
        b.close()
    a, c = dict(response_store(tmp_path / "online").items()), dict(response_store(tmp_path / "batch").items())
    assert set(a) == set(c) == {r.key for r in reqs}
    for key in a:
        assert a[key]["backend"] == "openai" and c[key]["backend"] == "openai-batch"  # the one marker
        strip = lambda rec: {k: v for k, v in rec.items() if k not in ("backend", "received_at")}  # noqa: E731
        assert json.dumps(strip(a[key]), sort_keys=True) == json.dumps(strip(c[key]), sort_keys=True)


def test_lazy_backend_and_config(tmp_path, server):
    cfg = {"backend": "openai", "openai": {"base_url": server.base_url, "api_key_env": None, "mode": "batch"}}
    assert isinstance(make_backend(cfg, str(tmp_path)), OpenAIBatchBackend)
    assert LazyBackend(cfg, str(tmp_path)).name == "openai-batch"
    assert LazyBackend({"backend": "openai", "openai": {}}).name == "openai"
    with pytest.raises(BackendFatalError, match="store folder"):
        make_backend(cfg)
    with pytest.raises(BackendFatalError, match="llm.openai.mode"):
        OpenAIConfig.from_dict({"mode": "offline"})
    with pytest.raises(BackendFatalError, match="batch_poll_s"):
        OpenAIConfig.from_dict({"batch_poll_s": 0})


# ---------------------------------------------------------------------------- failures
def test_failed_lines_and_expired_batch_are_failures_sent_again_by_the_next_run(tmp_path):
    with FakeOpenAIServer() as srv:
        reqs = [chat(i) for i in range(6)] + [chat(10, "bad [[400]]"), chat(11, "flaky [[500:1]]")]
        late = [chat(20 + i, f"late {i} [[expire]]") for i in range(2)]
        store = response_store(tmp_path)
        # the two groups go to separate batches: one completes, one expires
        b = batch_backend(srv, tmp_path, batch_max_requests=8)
        out, stats = run_requests(reqs + late, b, store, max_failure_share=1.0, progress=False)
        b.close()
        assert all(r.ok for r in out[:6]) and stats.failures == 4 and len(store) == 6
        assert out[6].error.startswith("HTTP 400: Invalid request. (in batch ")
        assert out[7].error.startswith("HTTP 500: ")
        assert all(r.error.startswith("batch_expired: ") and r.error.endswith("; rerun to send it in a new batch")
                   for r in out[8:])
        pending, done = journal_files(tmp_path)
        assert pending == [] and len(done) == 2

        # a rerun sends only the four failures, in one new batch, and none of the successes
        created = srv.batches_created
        b2 = batch_backend(srv, tmp_path, batch_max_requests=8)
        out2, stats2 = run_requests(reqs + late, b2, store, max_failure_share=1.0, progress=False)
        b2.close()
        assert stats2.cache_hits == 6 and stats2.failures == 4 and srv.batches_created == created + 1
        assert all(srv.batch_lines[fingerprint(b2.online.body_for(r)[1])] == 1 for r in reqs[:6])


def test_rejected_batch_stops_with_the_servers_reason(tmp_path):
    with FakeOpenAIServer() as srv:
        b = batch_backend(srv, tmp_path)
        reqs = [chat(1), chat(2, "please [[batchfail]]")]
        with pytest.raises(BackendFatalError) as err:
            run_requests(reqs, b, response_store(tmp_path), progress=False)
    msg = str(err.value)
    assert "rejected batch" in msg and "line 2: the model rejected it" in msg and "llm.openai.mode: online" in msg
    pending, done = journal_files(tmp_path)
    assert pending == [] and "failed:" in json.loads(done[0].read_text())["note"]


def test_server_limits_that_the_config_passes_are_clear_errors(tmp_path):
    with FakeOpenAIServer() as srv:
        srv.batch_max_bytes = 300
        with pytest.raises(BackendFatalError, match="over the limit of 300.*llm.openai.batch_max_requests / batch_max_bytes"):
            run_requests([chat(i) for i in range(5)], batch_backend(srv, tmp_path), response_store(tmp_path), progress=False)
        srv.batch_max_bytes, srv.batch_max_requests = 10**9, 3
        with pytest.raises(BackendFatalError, match="too_many_requests"):
            run_requests([chat(i) for i in range(5)], batch_backend(srv, tmp_path), response_store(tmp_path), progress=False)


def test_server_without_the_batch_api(tmp_path, server, monkeypatch):
    monkeypatch.setattr(server, "_batch_api", lambda *a: (404, {"error": {"message": "no route", "code": "not_found"}}))
    with pytest.raises(BackendFatalError, match="cannot take batches; set llm.openai.mode: online"):
        run_requests([chat(1)], batch_backend(server, tmp_path), response_store(tmp_path), progress=False)


# ---------------------------------------------------------------------- paying once
def test_lost_create_answer_is_found_in_the_batch_list_not_created_again(tmp_path):
    with FakeOpenAIServer() as srv:
        srv.batch_create_fails = 1  # the batch is made, but the answer is a 500
        b = batch_backend(srv, tmp_path)
        out, stats = run_requests([chat(i) for i in range(3)], b, response_store(tmp_path), progress=False)
        assert all(r.ok for r in out) and srv.batches_created == 1 and srv.files_uploaded == 1
        assert b.retries == 1 and b.submitted == 1


def test_killed_between_upload_and_create_does_not_upload_again(tmp_path, monkeypatch):
    reqs = [chat(i) for i in range(4)]
    with FakeOpenAIServer() as srv:
        b = batch_backend(srv, tmp_path)

        def killed(self, e, resumed):
            raise KeyboardInterrupt  # stands in for SIGKILL right after the upload was journaled

        with monkeypatch.context() as m:
            m.setattr(OpenAIBatchBackend, "_create", killed)
            with pytest.raises(KeyboardInterrupt):
                run_requests(reqs, b, response_store(tmp_path), progress=False)
        (entry,) = Journal(tmp_path / JOURNAL_DIR).pending()
        assert entry.state == "uploaded" and entry.input_file_id and entry.batch_id is None
        assert srv.files_uploaded == 1 and srv.batches_created == 0

        b2 = batch_backend(srv, tmp_path)
        out, _ = run_requests(reqs, b2, response_store(tmp_path), progress=False)
        b2.close()
        assert all(r.ok for r in out) and srv.files_uploaded == 1 and srv.batches_created == 1


def test_batch_unknown_to_the_server_fails_its_requests_for_a_rerun(tmp_path):
    reqs = [chat(i) for i in range(3)]
    with FakeOpenAIServer() as srv:
        srv.batch_delay_s = 3600
        b = batch_backend(srv, tmp_path)
        entry = b._submit(reqs)[0]  # submitted and journaled, then the server forgets it
        srv.batches.clear()
        out, stats = run_requests(reqs, batch_backend(srv, tmp_path), response_store(tmp_path), max_failure_share=1.0,
                                  progress=False)
        assert stats.failures == 3 and "unknown to the server" in out[0].error
        assert Journal(tmp_path / JOURNAL_DIR).pending()[0].batch_id == entry.batch_id  # collected, done on close


def test_cancelled_batch_keeps_what_ran_and_fails_the_rest(tmp_path):
    reqs = [chat(i) for i in range(3)]
    with FakeOpenAIServer() as srv:
        srv.batch_delay_s = 3600
        entry = batch_backend(srv, tmp_path)._submit(reqs)[0]
        srv.batches[entry.batch_id]["status"] = "cancelled"  # cancelled on the dashboard before any line ran
        b = batch_backend(srv, tmp_path)
        out, stats = run_requests(reqs, b, response_store(tmp_path), max_failure_share=1.0, progress=False)
        b.close()
        assert stats.failures == 3 and srv.batches_created == 1
        assert all("ended cancelled before this request ran; rerun to send it in a new batch" in r.error for r in out)
        assert journal_files(tmp_path)[0] == []


def test_api_key_is_sent_but_never_journaled_or_logged(tmp_path, monkeypatch, caplog):
    secret = "sk-batch-0123456789abcdefXYZ"
    monkeypatch.setenv("KODCODE_BATCH_KEY", secret)
    with FakeOpenAIServer(api_key=secret) as srv:
        b = batch_backend(srv, tmp_path, api_key_env="KODCODE_BATCH_KEY")
        with caplog.at_level(logging.DEBUG):
            out, _ = run_requests([chat(i) for i in range(5)] + [chat(9, "[[400]]")], b, response_store(tmp_path),
                                  max_failure_share=0.5, progress=False)
            b.close()
        assert set(srv.auth_headers) == {f"Bearer {secret}"}
        assert srv.batches_created == 1
    assert all(r.ok for r in out[:5])
    assert "KODCODE_BATCH_KEY" in journal_files(tmp_path)[1][0].read_text()  # the variable's name, not its value
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    assert secret not in caplog.text and "openai batch" in caplog.text

    monkeypatch.setenv("KODCODE_BATCH_KEY", "sk-wrong-0123456789abcdef")
    with FakeOpenAIServer(api_key=secret) as srv:
        with pytest.raises(BackendFatalError, match="KODCODE_BATCH_KEY") as err:
            run_requests([chat(30)], batch_backend(srv, tmp_path, api_key_env="KODCODE_BATCH_KEY"),
                         response_store(tmp_path), progress=False)
    assert "0123456789abcdef" not in str(err.value)


# ------------------------------------------------------------------- kill and resume
N = 40


def run_child(srv: FakeOpenAIServer, store: Path, out: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen([*CHILD, srv.base_url, str(store), str(out), str(N), *([mode] if mode == "batch" else [])],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_run_killed_while_waiting_resumes_polling_without_resubmitting(tmp_path):
    with FakeOpenAIServer() as srv:
        # the reference: the same requests online, uninterrupted
        ref = run_child(srv, tmp_path / "ref-store", tmp_path / "ref.jsonl", "online")
        assert ref.wait(timeout=60) == 0, ref.stderr.read().decode()
        srv.reset_counts()

        srv.batch_delay_s = 3600  # the batches will not finish while the first child waits
        store_dir = tmp_path / "store"
        child = run_child(srv, store_dir, tmp_path / "out.jsonl", "batch")
        journal = Journal(store_dir / JOURNAL_DIR)
        deadline = time.time() + 60
        while time.time() < deadline:
            if child.poll() is not None:
                pytest.fail(f"the child ended early: {child.stderr.read().decode()}")
            ids = [e.batch_id for e in journal.pending() if e.batch_id]
            if len(ids) == 2:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the batch ids never reached the journal")
        time.sleep(0.3)  # let it poll a few times: it is waiting now
        assert srv.batch_polls > 0
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL
        assert (srv.batches_created, srv.files_uploaded) == (2, 2)
        assert len(response_store(store_dir)) == 0 and not (tmp_path / "out.jsonl").exists()

        srv.batch_delay_s = 0.2  # now they finish
        again = run_child(srv, store_dir, tmp_path / "out.jsonl", "batch")
        assert again.wait(timeout=60) == 0, again.stderr.read().decode()
        # the restart polled the journaled batches: nothing was uploaded or created again
        assert (srv.batches_created, srv.files_uploaded) == (2, 2)
        assert srv.total_received == 0 and len(srv.batch_lines) == N and set(srv.batch_lines.values()) == {1}
        assert journal.pending() == [] and len(list((store_dir / JOURNAL_DIR / "done").glob("*.json"))) == 2

    assert len(response_store(store_dir)) == N
    assert {r.key for r in batch(N)} == set(response_store(store_dir).keys())
    # and the responses are byte for byte those of the online run
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
