"""The packed store: records in segment files, published through the log, indexed by checkpoints."""

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

from kodcode.hashing import content_hash
from kodcode.store import ContentStore, Options, StoreError
from kodcode.store.records import decode_frame, encode_frame, record_body

ROOT = Path(__file__).resolve().parents[3]
SMALL = Options(checkpoint_min=40, checkpoint_max=80, publish_records=10, ckpt_grace_s=0, log_grace_s=0)


def key(i: object) -> str:
    return content_hash(["k", i])


def rec(i: int, writer: str = "w") -> dict:
    return {"stage": "solutions" if i % 2 else "questions", "writer": writer, "request": {"model": f"m{i % 3}"},
            "received_at": f"2025-01-01T00:00:{i % 60:02d}+00:00",
            "response": {"text": f"answer {i} " * 40, "usage": {"prompt_tokens": i, "completion_tokens": 2 * i}}}


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


# ------------------------------------------------------------------ records


def test_get_returns_exactly_what_was_put_from_a_compressed_checksummed_frame(tmp_path):
    odd = {"text": "ü ∑ \"q\"\n\u2028", "n": 1.5e-300, "big": 2**70, "neg": -0.0, "none": None, "t": True,
           "nested": {"b": [1, {}], "a": ""}, "long": "x" * 5000}
    store = ContentStore(tmp_path, "responses")
    assert store.put(key(1), odd) and store.put(key(2), {})
    again = ContentStore(tmp_path, "responses")
    assert again.get(key(1)) == odd and again.get(key(2)) == {}
    assert json.dumps(again.get(key(1)), sort_keys=True) == json.dumps(odd, sort_keys=True)
    frame = encode_frame(key(1), record_body(odd), 6)
    assert len(frame) < 600 and decode_frame(frame, key(1)) == odd  # 5 KB of repeats, compressed
    seg = next((tmp_path / "responses" / "segments").iterdir())
    assert frame in seg.read_bytes()
    with pytest.raises(ValueError):
        store.put(key(3), {"_sha256": "x"})
    with pytest.raises(ValueError):
        store.put("../etc/passwd", {})


def test_a_store_of_thousands_of_records_is_a_handful_of_files(tmp_path):
    store = ContentStore(tmp_path, "responses", SMALL)
    for i in range(2000):
        store.put(key(i), rec(i))
    store.close()
    made = [p for p in files_under(tmp_path / "responses")]
    assert len(made) < 40, sorted(p.name for p in made)  # one segment, a checkpoint, a few log entries
    reader = ContentStore(tmp_path, "responses")
    assert len(reader) == 2000 and reader.get(key(1234)) == rec(1234)
    assert list(reader.keys()) == sorted(key(i) for i in range(2000))
    st = reader.stats()
    assert st["questions"]["records"] == 1000 and st["solutions"]["prompt_tokens"] == sum(range(1, 2000, 2))
    assert st["questions"]["models"] == ["m0", "m1", "m2"] and st["questions"]["last"] == "2025-01-01T00:00:58+00:00"
    assert reader.stats(group=lambda r: r["request"]["model"])["m1"]["records"] == 667


# ------------------------------------------------------------------ who wins


def test_the_first_record_published_wins_and_a_read_never_changes_its_mind(tmp_path):
    a = ContentStore(tmp_path, "responses", Options(publish_s=1e9))
    b = ContentStore(tmp_path, "responses", Options(publish_s=1e9))
    # both append before either is published: a race
    assert a.put(key(1), {"writer": "a"}) and b.put(key(1), {"writer": "b"})
    reader = ContentStore(tmp_path, "responses", Options(rescan_s=1e9))
    assert reader.get(key(1)) is not None  # the first look-up publishes both tails, in one entry
    first = reader.get(key(1))["writer"]
    # published in one entry, records go in segment-name order; either way, everyone agrees
    assert a.get(key(1))["writer"] == b.get(key(1))["writer"] == first
    assert ContentStore(tmp_path, "responses").get(key(1))["writer"] == first

    # a second race where b publishes first: b wins, though a wrote first
    assert a.put(key(2), {"writer": "a"})
    assert b.put(key(2), {"writer": "b"})
    b.flush()
    assert reader.get(key(2))["writer"] == "b"
    a.flush()
    assert a.get(key(2))["writer"] == "b" and ContentStore(tmp_path, "responses").get(key(2))["writer"] == "b"
    assert reader.get(key(2))["writer"] == "b"
    assert ContentStore(tmp_path, "responses").verify().duplicates == 2


def test_own_unpublished_record_is_published_before_it_is_returned(tmp_path):
    w = ContentStore(tmp_path, "responses", Options(publish_s=1e9))
    w.put(key(1), {"v": 1})
    assert not any((tmp_path / "responses" / "log").iterdir())  # not yet published
    assert w.get(key(1)) == {"v": 1}
    assert len(list((tmp_path / "responses" / "log").iterdir())) == 1


# ------------------------------------------------------------------ crashes


def _child(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True)


KILLED_WRITER = """
import os, sys, time
from kodcode.hashing import content_hash
from kodcode.store import ContentStore, Options
s = ContentStore(sys.argv[1], "responses", Options(publish_s=1e9, publish_records=1 << 30))
for i in range(int(sys.argv[2])):
    s.put(content_hash(["k", i]), {"i": i})
print("written", flush=True)
time.sleep(60)
"""


def test_records_of_a_killed_writer_are_kept_and_published_by_the_next_reader(tmp_path):
    child = _child(KILLED_WRITER, str(tmp_path), "500")
    assert child.stdout.readline().strip() == "written"  # every put returned: acknowledged
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert not any((tmp_path / "responses" / "log").iterdir())  # it published nothing
    reader = ContentStore(tmp_path, "responses")
    assert reader.get(key(499)) == {"i": 499} and len(reader) == 500


def test_a_frame_cut_short_by_a_crash_is_skipped_and_the_segment_closed(tmp_path, caplog):
    w = ContentStore(tmp_path, "responses", Options(publish_s=1e9))
    for i in range(3):
        w.put(key(i), {"i": i})
    seg = w._engine.seg_dir / w._engine.seg_name
    torn = encode_frame(key(3), record_body({"i": 3}), 6)
    with open(seg, "ab") as fh:  # what a killed writer leaves: part of its last frame
        fh.write(torn[: len(torn) // 2])
    w._engine.seg_fd = None  # the writer is gone: nothing more is appended there
    old = time.time() - 7200
    os.utime(seg, (old, old))
    with caplog.at_level(logging.WARNING, logger="kodcode.store"):
        reader = ContentStore(tmp_path, "responses")
        assert [reader.get(key(i)) for i in range(4)] == [{"i": 0}, {"i": 1}, {"i": 2}, None]
        report = reader.verify()
    assert report.clean and not report.damaged and report.records == 3
    assert "damaged" not in caplog.text  # a torn end was never acknowledged: not damage
    v = reader._engine.view
    assert v.segs[v.seg_no[seg.name]].final  # abandoned: no more scans of it


def test_a_frame_still_being_written_is_not_published_until_whole(tmp_path):
    store = ContentStore(tmp_path, "responses")
    store.ensure_folders()
    seg = tmp_path / "responses" / "segments" / "20250101T000000-otherhost-1-00000000.seg"
    frame = encode_frame(key(1), record_body({"v": 1}), 6)
    seg.write_bytes(b"KCSEG01\n" + frame[:10])  # another host's writer, mid-write
    reader = ContentStore(tmp_path, "responses", Options(rescan_s=0))
    assert reader.get(key(1)) is None and not any((tmp_path / "responses" / "log").iterdir())
    with open(seg, "ab") as fh:
        fh.write(frame[10:])
    assert reader.get(key(1)) == {"v": 1}


def test_fork_child_writes_its_own_segment(tmp_path):
    store = ContentStore(tmp_path, "responses", Options(publish_s=1e9))
    store.put(key(1), {"who": "parent"})
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            store.put(key(2), {"who": "child"})
            store.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    store.put(key(3), {"who": "parent"})
    assert len(list((tmp_path / "responses" / "segments").iterdir())) == 2
    fresh = ContentStore(tmp_path, "responses")
    assert [fresh.get(key(i))["who"] for i in (1, 2, 3)] == ["parent", "child", "parent"]
    assert fresh.verify().clean


# ------------------------------------------------------------------ checkpoints and collection


def test_checkpoints_fold_the_log_and_readers_follow_them(tmp_path):
    reader = ContentStore(tmp_path, "responses", SMALL)
    writer = ContentStore(tmp_path, "responses", SMALL)
    writer.put(key(0), rec(0))
    assert reader.get(key(0)) == rec(0)  # the reader's view: an early position of the log
    for i in range(1, 600):
        writer.put(key(i), rec(i))
    writer.close()
    ckpts = sorted((tmp_path / "responses" / "checkpoints").glob("*.ckpt"))
    assert len(ckpts) <= 2  # the newest and the full index it adds to; the others are collected (grace 0 here)
    n = int(ckpts[-1].name[:12])
    assert all(int(p.name) > n for p in (tmp_path / "responses" / "log").iterdir())  # folded entries collected
    # the reader's log entries and checkpoint are gone: it finds the newest and goes on
    assert reader.get(key(599)) == rec(599) and reader.get(key(1)) == rec(1) and len(reader) == 600
    assert ContentStore(tmp_path, "responses").stats()["solutions"]["records"] == 300


def test_a_damaged_checkpoint_is_rebuilt_by_verify_repair(tmp_path):
    store = ContentStore(tmp_path, "responses", SMALL)
    for i in range(300):
        store.put(key(i), rec(i))
    store.checkpoint()
    store.close()
    ckpt = sorted((tmp_path / "responses" / "checkpoints").glob("*.ckpt"))[0]  # the full index (the base)
    data = bytearray(ckpt.read_bytes())
    data[100] ^= 0xFF  # inside the index
    ckpt.write_bytes(bytes(data))
    report = ContentStore(tmp_path, "responses").verify()
    assert not report.clean and "fails its checksum" in report.damaged[0].reason
    assert ContentStore(tmp_path, "responses").verify(repair=True).records == 300
    fresh = ContentStore(tmp_path, "responses")
    assert all(fresh.get(key(i)) == rec(i) for i in range(300)) and fresh.verify().clean


def test_compaction_merges_small_finished_segments(tmp_path):
    for w in range(5):  # five short jobs: five small segments
        s = ContentStore(tmp_path, "responses", SMALL)
        for i in range(w * 100, w * 100 + 100):
            s.put(key(i), rec(i, f"w{w}"))
        s.close()
    store = ContentStore(tmp_path, "responses", Options(log_grace_s=0))
    before = dict(store.items())
    done = store.compact()
    assert done["segments_merged"] == 5 and done["segments_written"] == 1 and done["records_copied"] == 500
    store.checkpoint()  # collects the retired segments (grace 0 here)
    assert len(list((tmp_path / "responses" / "segments").iterdir())) == 1
    assert dict(ContentStore(tmp_path, "responses").items()) == before


# ------------------------------------------------------------------ the filesystem


def test_without_hard_links_log_entries_are_published_by_renaming_a_folder(tmp_path, monkeypatch):
    def no_link(*a, **k):
        raise PermissionError("no hard links here")

    monkeypatch.setattr(os, "link", no_link)
    a, b = ContentStore(tmp_path, "responses", SMALL), ContentStore(tmp_path, "responses", SMALL)
    for i in range(200):
        (a if i % 2 else b).put(key(i), rec(i))
    a.close()
    b.close()
    entries = list((tmp_path / "responses" / "log").iterdir())
    assert entries and all((p / "entry").is_file() for p in entries)
    fresh = ContentStore(tmp_path, "responses")
    assert len(fresh) == 200 and fresh.get(key(7)) == rec(7) and not fresh.stray_temp_files()


def test_a_store_deleted_under_a_writer_stops_it(tmp_path):
    import shutil

    store = ContentStore(tmp_path / "s", "verdicts")
    store.put(key(1), {"v": 1})
    shutil.rmtree(tmp_path / "s")
    with pytest.raises(StoreError, match="disappeared during the run") as exc:
        store.put(key(2), {"v": 2})
    assert "\n" not in str(exc.value)


def test_stray_temporary_files_are_listed_and_old_ones_removed_by_repair(tmp_path):
    store = ContentStore(tmp_path, "responses")
    store.put(key(1), {"v": 1})
    store.flush()
    stray = tmp_path / "responses" / "log" / ".000000000002.abc.tmp"
    stray.write_text("half")
    assert store.stray_temp_files() == [stray] and store.stray_temp_files(older_than_s=3600) == []
    os.utime(stray, (time.time() - 7200,) * 2)
    assert store.verify(repair=True).removed_temp_files == 1 and not stray.exists()


def test_a_lost_segment_file_reads_as_damage_not_as_a_crash(tmp_path, caplog):
    for w in range(2):
        s = ContentStore(tmp_path, "responses")
        s.put(key(w), {"w": w})
        s.close()
    store = ContentStore(tmp_path, "responses")
    assert store.get(key(0)) == {"w": 0}
    lost = tmp_path / "responses" / store.location(key(1)).rpartition("@")[0]
    lost.unlink()
    fresh = ContentStore(tmp_path, "responses")
    with caplog.at_level(logging.WARNING, logger="kodcode.store"):
        assert fresh.get(key(1)) is None and fresh.get(key(0)) == {"w": 0}
    assert "segment file is missing" in caplog.text
    report = ContentStore(tmp_path, "responses").verify()
    assert report.records == 1
    assert fresh.put(key(1), {"w": "again"}) and ContentStore(tmp_path, "responses").get(key(1)) == {"w": "again"}


def test_export_writes_packed_records_exactly_as_json_dumps_would(tmp_path):
    odd = {"t": "ü ∑ \"q\"\n\u2028\t", "f": [1.5e-300, -0.0, 2**70, 0.1], "n": None, "nested": {"z": 1, "a": {}}}
    store = ContentStore(tmp_path, "responses")
    store.put(key(1), odd)
    store.put(key(2), {"stage": "x"})
    (tmp_path / "responses" / "ab").mkdir(exist_ok=True)
    store.path_for("ab" * 8).write_text(json.dumps({"old": "ü"}), encoding="utf-8")  # a one-file record
    fresh = ContentStore(tmp_path, "responses")
    assert fresh.export(tmp_path / "out.jsonl") == 3
    want = "".join(json.dumps({"key": k, "record": r}, ensure_ascii=False, sort_keys=True) + "\n"
                   for k, r in sorted(fresh.items()))
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == want
    assert fresh.export(tmp_path / "x.jsonl", keep=lambda r: r.get("stage") == "x") == 1


def test_checkpoints_add_to_a_base_index_until_it_is_worth_merging(tmp_path):
    opts = Options(checkpoint_min=100, checkpoint_max=100, publish_records=20, ckpt_grace_s=0, log_grace_s=0)
    store = ContentStore(tmp_path, "responses", opts)
    bases = set()
    for i in range(2000):
        store.put(key(i), rec(i))
        v = store._engine.view
        if v.ckpt is not None:
            bases.add((v.base or v.ckpt).path.name)
            if v.base is not None:  # a delta stays under a quarter of its base
                assert v.ckpt.n_entries * 4 <= v.base.n_entries
    store.close()
    assert len(bases) >= 3  # full merges happen as the store grows, not at every checkpoint
    fresh = ContentStore(tmp_path, "responses")
    assert fresh._engine.ensure_view().base is not None or fresh._engine.view.tail_records
    assert len(fresh) == 2000 and all(fresh.get(key(i)) == rec(i) for i in range(0, 2000, 37))
    assert list(fresh.keys()) == sorted(key(i) for i in range(2000)) and fresh.verify().clean
