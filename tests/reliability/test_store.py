"""Issue 10, the store: damaged records, a store that vanishes mid-run, verdicts kept as they come.

One test (or parametrised group) per probe: each failed before the fix. Since issue 13 records are
packed into segment files, so damage is done to a record inside its segment."""

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
from kodcode.store import ContentStore, Options, StoreError, encode_record

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


def segment_of(store: ContentStore, key: str) -> tuple[Path, int]:
    """The segment file and offset of a key's packed record."""
    where, _, off = store.location(key).rpartition("@")
    return Path(where), int(off)


def damage(store: ContentStore, key: str, how: str) -> Path:
    """Damage a packed record in place; returns its ``segment@offset`` as verify names it."""
    seg, off = segment_of(store, key)
    data = bytearray(seg.read_bytes())
    if how == "cut":  # the segment was copied or written only in part: it ends inside the record
        del data[off + 30:]
    elif how == "garbage":
        data[off:off + 40] = b"\x00\xffnot a record".ljust(40, b"\x00")
    else:  # a byte of the compressed record changed on disk
        data[off + 60] ^= 0x01
    seg.write_bytes(bytes(data))
    return Path(f"{seg}@{off}")


# ------------------------------------------------------------------ the record format


def test_records_read_back_exactly_and_records_without_checksum_still_read(tmp_path):
    store = ContentStore(tmp_path, "responses")
    rec = {"text": "ü ∑ \"quoted\"\n", "n": 1.5e-300, "big": 2**70, "none": None, "nested": {"b": [1, {}]}}
    store.put("ab" * 8, rec)
    store.put("cd" * 8, {})
    assert store.get("ab" * 8) == rec and store.get("cd" * 8) == {}
    assert "@" in store.location("ab" * 8) and not store.path_for("ab" * 8).exists()  # packed, not a file
    # records of the one-file layout, with a checksum and from before checksums: still read
    (tmp_path / "responses" / "ef").mkdir(exist_ok=True)
    store.path_for("ef" * 8).write_text(json.dumps({"response": {"text": "old"}}, sort_keys=True), encoding="utf-8")
    store.path_for("ee" * 8).write_bytes(encode_record({"response": {"text": "checked"}}))
    fresh = ContentStore(tmp_path, "responses")
    assert fresh.get("ef" * 8) == {"response": {"text": "old"}}
    assert dict(fresh.items())["ee" * 8] == {"response": {"text": "checked"}}
    assert len(fresh) == 4


# ------------------------------------------------------------------ probe 1: a damaged record


@pytest.mark.parametrize("how", ["cut", "garbage", "edited"])
def test_damaged_record_is_quarantined_and_asked_for_again(tmp_path, caplog, how):
    store, reqs = filled(tmp_path)
    damage(store, reqs[1].key, how)
    reader = response_store(str(tmp_path / "store"))
    with caplog.at_level(logging.WARNING, logger="kodcode.store"):
        assert reader.get(reqs[1].key) is None
    assert reqs[1].key in caplog.text and "a copy is in" in caplog.text
    moved = list((tmp_path / "store" / "quarantine" / "responses").iterdir())
    assert len(moved) == 1 and moved[0].name.startswith(reqs[1].key)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kodcode.store"):
        assert reader.get(reqs[1].key) is None  # skipped from now on, without a second warning or copy
    assert "a copy is in" not in caplog.text and len(list(moved[0].parent.iterdir())) == 1

    if how != "cut":  # a cut segment has lost reqs[2] already
        damage(store, reqs[2].key, how)  # found by the run itself this time
    backend = EchoBackend()
    out, stats = run_requests(reqs, backend, store, progress=False)
    assert backend.seen == [reqs[1].key, reqs[2].key]
    assert stats.cache_hits == 1 and stats.generated == 2
    assert [r.text for r in out] == ["echo Q_0", "echo Q_1", "echo Q_2"]
    assert all(response_store(str(tmp_path / "store")).get(r.key) is not None for r in reqs)


def test_import_replaces_damaged_records(tmp_path, capsys):
    store, reqs = filled(tmp_path)
    archive = tmp_path / "archive.jsonl"
    assert kodcode_main(["store", "export", "--root", str(store.root), str(archive)]) == 0
    damage(store, reqs[0].key, "garbage")
    capsys.readouterr()
    assert kodcode_main(["store", "import", "--root", str(store.root), str(archive)]) == 0
    assert "0 added, 2 already present, 1 damaged records repaired" in capsys.readouterr().out
    assert dict(ContentStore(store.root, "responses").items()) == {
        json.loads(x)["key"]: json.loads(x)["record"] for x in archive.read_text(encoding="utf-8").splitlines()}


def test_stats_export_and_verify_report_damage_without_crashing(tmp_path, capsys):
    store, reqs = filled(tmp_path)
    bad = damage(store, reqs[0].key, "garbage")
    stray = store.base / "log" / ".000000000009.0123.tmp"  # a publisher killed before its link
    stray.write_text("half")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    root = ["--root", str(store.root)]
    capsys.readouterr()

    # stats does not read records: it counts what was written (verify is what reads them)
    assert kodcode_main(["store", "stats", *root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stages"]["questions"]["records"] == 3 and data["stray_temp_files"] == 1
    assert kodcode_main(["store", "export", *root, str(tmp_path / "x.jsonl")]) == 0
    cap = capsys.readouterr()
    assert "exported 2 records" in cap.out and "skipped 1 damaged records" in cap.err
    assert not (store.root / "quarantine").exists()  # looking does not quarantine anything

    assert kodcode_main(["store", "verify", *root]) == 1
    out = capsys.readouterr().out
    assert "2 good records" in out and "1 damaged, 1 temporary files" in out and f"damaged: {bad}" in out
    assert "--repair" in out
    assert kodcode_main(["store", "verify", *root, "--repair"]) == 0
    out = capsys.readouterr().out
    assert "quarantined 1 damaged records in" in out and "removed 1 temporary files" in out
    assert not stray.exists() and len(list((store.root / "quarantine" / "responses").iterdir())) == 1
    assert kodcode_main(["store", "verify", *root]) == 0
    assert "2 good records" in capsys.readouterr().out


def test_damaged_one_file_records_are_still_quarantined_and_reported(tmp_path, capsys):
    """Stores of the one-file layout (before migrate) keep the old behaviour."""
    store = ContentStore(tmp_path, "responses")
    for i, key in enumerate(("ab" * 8, "cd" * 8, "ef" * 8)):
        store.base.joinpath(key[:2]).mkdir(parents=True, exist_ok=True)
        store.path_for(key).write_bytes(encode_record({"stage": "questions", "i": i}))
    bad = store.path_for("cd" * 8)
    bad.write_bytes(bad.read_bytes()[:20])
    root = ["--root", str(tmp_path)]
    capsys.readouterr()
    assert kodcode_main(["store", "stats", *root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["damaged_records"] == 1 and data["stages"]["questions"]["records"] == 2
    assert kodcode_main(["store", "verify", *root, "--repair"]) == 0
    assert not bad.exists() and "quarantined 1 damaged records" in capsys.readouterr().out
    assert ContentStore(tmp_path, "responses").get("cd" * 8) is None


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
                        lambda cfg, store: EchoBackend(hook=lambda n: n == 2 and shutil.rmtree(store_root)))
    with pytest.raises(SystemExit) as exc:
        generate_stage.generate("questions", "S", str(tmp_path / "requests.jsonl"), str(tmp_path / "out.jsonl"),
                                str(tmp_path / "s.json"), {"backend": "echo"}, str(store_root))
    assert exc.value.code == 1
    err = capfd.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("ERROR:")]
    assert len(lines) == 1 and "disappeared during the run" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("when", ["new segment", "mid-segment"])
def test_unwritable_store_is_one_line(tmp_path, monkeypatch, when):
    store = ContentStore(tmp_path, "verdicts", Options(segment_max=200 if when == "new segment" else 1 << 30))
    store.put("ab" * 8, {"x": 1})
    real_open, real_write = os.open, os.write

    def full_open(path, *a, **k):
        if str(path).endswith(".seg"):
            raise OSError(28, "No space left on device")
        return real_open(path, *a, **k)

    def full_write(fd, data):
        if fd == store._engine.seg_fd:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    if when == "new segment":  # the 200-byte segment is full: the next put needs a new file
        monkeypatch.setattr(os, "open", full_open)
    else:
        monkeypatch.setattr(os, "write", full_write)
    with pytest.raises(StoreError, match=r"cannot write to store .*No space left on device.*stored so far are safe"):
        store.put("cd" * 8, {"x": os.urandom(300).hex()})
    monkeypatch.undo()
    again = ContentStore(tmp_path, "verdicts")
    assert again.get("ab" * 8) == {"x": 1} and again.get("cd" * 8) is None
    assert again.put("cd" * 8, {"x": 2}) and ContentStore(tmp_path, "verdicts").get("cd" * 8) == {"x": 2}


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
