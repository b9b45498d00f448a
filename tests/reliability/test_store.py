"""Issue 10, the store: damaged records, a store that vanishes mid-run, verdicts kept as they come.

One test (or parametrised group) per probe: each failed before the fix."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kodcode.cli import main as kodcode_main
from kodcode.executor import Attempt, Limits, run_attempts
from kodcode.jsonl import write_jsonl
from kodcode.llm.client import response_store, run_requests
from kodcode.llm.request import Request, Response
from kodcode.stages import generate as generate_stage
from kodcode.store import ContentStore, StoreError

from executor.conftest import requires_bwrap

ROOT = Path(__file__).resolve().parents[2]
PASS_SOLUTION = "def add(a, b):\n    return a + b\n"
PASS_TESTS = "from solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def req(i: int) -> Request:
    return Request("questions", f"Q_{i}", 0, "m", messages=(("user", f"question {i} ü"),), seed=i)


class EchoBackend:
    """Answers every request; ``hook(n)`` runs before the n-th answer (1-based)."""

    name = "echo"

    def __init__(self, hook=None):
        self.seen: list[str] = []
        self.hook = hook

    def generate(self, requests, on_result):
        for r in requests:
            self.seen.append(r.key)
            if self.hook is not None:
                self.hook(len(self.seen))
            on_result(r, Response(text=f"echo {r.item_id}", finish_reason="stop", model=r.model,
                                  usage={"prompt_tokens": 1, "completion_tokens": 2}))

    def close(self):
        pass


def filled(tmp_path: Path, n: int = 3) -> tuple[ContentStore, list[Request]]:
    store = response_store(str(tmp_path / "store"))
    reqs = [req(i) for i in range(n)]
    run_requests(reqs, EchoBackend(), store, progress=False)
    return store, reqs


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x00\xffnot a record")
    else:  # still valid JSON, but not what was written
        path.write_bytes(data.replace(b"echo", b"ECHO"))


# ------------------------------------------------------------------ the record format


def test_records_read_back_exactly_and_records_without_checksum_still_read(tmp_path):
    store = ContentStore(tmp_path, "responses")
    rec = {"text": "ü ∑ \"quoted\"\n", "n": 1.5e-300, "big": 2**70, "none": None, "nested": {"b": [1, {}]}}
    store.put("ab" * 8, rec)
    store.put("cd" * 8, {})
    assert store.get("ab" * 8) == rec and store.get("cd" * 8) == {}
    assert store.path_for("ab" * 8).read_text(encoding="utf-8").startswith('{"_sha256": "')
    # a record written before checksums existed: plain sorted JSON
    old = store.path_for("ef" * 8)
    old.write_text(json.dumps({"response": {"text": "old"}}, sort_keys=True), encoding="utf-8")
    assert store.get("ef" * 8) == {"response": {"text": "old"}}
    assert dict(store.items())["ef" * 8] == {"response": {"text": "old"}}


# ------------------------------------------------------------------ probe 1: a damaged record


@pytest.mark.parametrize("how", ["truncated", "garbage", "edited"])
def test_damaged_record_is_quarantined_and_asked_for_again(tmp_path, caplog, how):
    store, reqs = filled(tmp_path)
    bad = store.path_for(reqs[1].key)
    damage(bad, how)
    with caplog.at_level(logging.WARNING, logger="kodcode.store"):
        assert store.get(reqs[1].key) is None
    assert str(bad) in caplog.text and "moved to" in caplog.text
    moved = list((tmp_path / "store" / "quarantine" / "responses").iterdir())
    assert len(moved) == 1 and moved[0].name.startswith(reqs[1].key) and not bad.exists()

    damage(store.path_for(reqs[2].key), how)  # found by the run itself this time
    backend = EchoBackend()
    out, stats = run_requests(reqs, backend, store, progress=False)
    assert backend.seen == [reqs[1].key, reqs[2].key]
    assert stats.cache_hits == 1 and stats.generated == 2
    assert [r.text for r in out] == ["echo Q_0", "echo Q_1", "echo Q_2"]
    assert all(store.get(r.key) is not None for r in reqs)


def test_import_replaces_damaged_records(tmp_path, capsys):
    store, reqs = filled(tmp_path)
    archive = tmp_path / "archive.jsonl"
    assert kodcode_main(["store", "export", "--root", str(store.root), str(archive)]) == 0
    damage(store.path_for(reqs[0].key), "truncated")
    capsys.readouterr()
    assert kodcode_main(["store", "import", "--root", str(store.root), str(archive)]) == 0
    assert "0 added, 2 already present, 1 damaged records repaired" in capsys.readouterr().out
    assert dict(store.items()) == {json.loads(x)["key"]: json.loads(x)["record"]
                                   for x in archive.read_text(encoding="utf-8").splitlines()}


def test_stats_export_and_verify_report_damage_without_crashing(tmp_path, capsys):
    store, reqs = filled(tmp_path)
    bad = store.path_for(reqs[0].key)
    damage(bad, "garbage")
    stray = bad.parent / f".{reqs[0].key}.0123.tmp"
    stray.write_text("half")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    root = ["--root", str(store.root)]
    capsys.readouterr()

    assert kodcode_main(["store", "stats", *root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["damaged_records"] == 1 and data["stages"]["questions"]["records"] == 2
    assert kodcode_main(["store", "export", *root, str(tmp_path / "x.jsonl")]) == 0
    cap = capsys.readouterr()
    assert "exported 2 records" in cap.out and "skipped 1 damaged records" in cap.err
    assert bad.exists()  # looking does not move anything

    assert kodcode_main(["store", "verify", *root]) == 1
    out = capsys.readouterr().out
    assert "2 good records" in out and "1 damaged, 1 temporary files" in out and f"damaged: {bad}" in out
    assert "--repair" in out
    assert kodcode_main(["store", "verify", *root, "--repair"]) == 0
    out = capsys.readouterr().out
    assert "moved 1 damaged records to" in out and "removed 1 temporary files" in out
    assert not bad.exists() and not stray.exists()
    assert kodcode_main(["store", "verify", *root]) == 0
    assert "2 good records" in capsys.readouterr().out


# ------------------------------------------------------------------ probe 2: the store vanishes


def test_store_deleted_mid_run_stops_the_llm_run_with_one_line(tmp_path):
    store = response_store(str(tmp_path / "store"))
    reqs = [req(i) for i in range(6)]

    def hook(n: int) -> None:
        time.sleep(0.05)  # a response takes a moment to arrive, time enough to find the store gone
        if n == 3:
            shutil.rmtree(tmp_path / "store")

    backend = EchoBackend(hook=hook)
    with pytest.raises(StoreError) as exc:
        run_requests(reqs, backend, store, progress=False)
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "store" / "responses") in msg and "disappeared during the run" in msg
    assert len(backend.seen) < 6  # stopped, not run to the end with nowhere to put results


def test_store_deleted_mid_run_ends_the_generate_job_without_traceback(tmp_path, monkeypatch, capfd):
    reqs = [req(i) for i in range(4)]
    write_jsonl(tmp_path / "requests.jsonl", [{"request": r.to_dict(), "meta": {}} for r in reqs])
    store_root = tmp_path / "store"
    monkeypatch.setattr(generate_stage, "LazyBackend",
                        lambda cfg: EchoBackend(hook=lambda n: n == 2 and shutil.rmtree(store_root)))
    with pytest.raises(SystemExit) as exc:
        generate_stage.generate("questions", "S", str(tmp_path / "requests.jsonl"), str(tmp_path / "out.jsonl"),
                                str(tmp_path / "s.json"), {"backend": "echo"}, str(store_root))
    assert exc.value.code == 1
    err = capfd.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("ERROR:")]
    assert len(lines) == 1 and "disappeared during the run" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()


def test_unwritable_store_is_one_line(tmp_path, monkeypatch):
    store = ContentStore(tmp_path, "verdicts")
    store.put("ab" * 8, {"x": 1})
    real_open = os.open

    def full(path, *a, **k):
        if str(path).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(StoreError, match=r"cannot write to store .*No space left on device.*stored so far are safe"):
        store.put("cd" * 8, {"x": 2})


class VanishingStore(ContentStore):
    """Deleted by someone else right after its first record."""

    def put(self, key, record):
        self.calls.append(key)
        wrote = super().put(key, record)
        shutil.rmtree(self.root)
        return wrote


# the pool stops handing out attempts at the first verdict it cannot store
def test_store_deleted_mid_batch_stops_the_verdict_run(tmp_path):
    store = VanishingStore(tmp_path / "store", "verdicts")
    object.__setattr__(store, "calls", [])
    attempts = [Attempt(f"a{i}", PASS_SOLUTION, PASS_TESTS + f"# {i}\n") for i in range(5)]
    with pytest.raises(StoreError, match="disappeared during the run"):
        run_attempts(attempts, Limits(timeout_s=10), engine="none", store=store, workers=1, preload=())
    assert len(store.calls) == 2  # the pool stopped at the first verdict it could not keep


# ------------------------------------------------------------------ probe 3: verdicts as they come


def attempt_folder(root: Path, name: str, solution: str) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "solution.py").write_text(solution)
    (root / name / "test_solution.py").write_text(PASS_TESTS)


@requires_bwrap
def test_killed_execute_keeps_the_verdicts_it_had(tmp_path):
    attempts, store_dir = tmp_path / "attempts", tmp_path / "store"
    for name in ("a", "b", "c"):
        attempt_folder(attempts, name, PASS_SOLUTION + f"# {name}\n")
    attempt_folder(attempts, "z_slow", "import time\ntime.sleep(60)\n" + PASS_SOLUTION)
    (tmp_path / "config.yaml").write_text("executor:\n  preload: []\n")
    cmd = [sys.executable, "-m", "kodcode.cli", "execute", str(attempts), "--out", str(tmp_path / "v.json"),
           "--engine", "bwrap", "--workers", "1", "--timeout", "30", "--store", str(store_dir),
           "--config", str(tmp_path / "config.yaml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = ContentStore(store_dir, "verdicts")
    deadline = time.monotonic() + 8
    while len(store) < 3 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(store) == 3, "the finished attempts' verdicts must be in the store before the batch ends"

    attempt_folder(attempts, "z_slow", PASS_SOLUTION + "# now fast\n")
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "4 attempts (1 executed, 3 from the store)" in again.stdout
    assert {k: v["verdict"] for k, v in json.loads((tmp_path / "v.json").read_text()).items()} == {
        "a": "pass", "b": "pass", "c": "pass", "z_slow": "pass"}
