"""First writer wins, and stays the winner: two processes write different records under the same
keys at once while two others read them, publishing whatever they find. No reader ever sees a
key's record change, and every reader, and a fresh process afterwards, agrees on each key."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

from kodcode.hashing import content_hash
from kodcode.store import ContentStore, Options

N = 800
# writers never publish on their own until they finish, so their records are published by the
# readers' look-ups (racing with each other) or by the writers' final flush (racing too);
# checkpoints and garbage collection run all along
WRITER = Options(publish_records=1 << 30, publish_s=1e9, checkpoint_min=150, checkpoint_max=300,
                 ckpt_grace_s=0.05, log_grace_s=0.2)
READER = Options(rescan_s=0.0, checkpoint_min=150, checkpoint_max=300, ckpt_grace_s=0.05, log_grace_s=0.2)


def key(i: int) -> str:
    return content_hash(["race", i])


def _writer(root: str, name: str, both_wrote, start) -> None:
    store = ContentStore(root, "responses", WRITER)
    # the first half: both writers append every key before anything is published, a sure race
    for i in range(N // 2):
        assert store.put(key(i), {"writer": name, "i": i, "text": f"{name} answers {i}"})
    both_wrote.wait()
    start.set()
    # the second half, in opposite orders: while the readers publish and read, whoever is first wins
    for i in (range(N // 2, N) if name == "A" else range(N - 1, N // 2 - 1, -1)):
        store.put(key(i), {"writer": name, "i": i, "text": f"{name} answers {i}"})
    store.close()


def _reader(root: str, out: str, start, stop) -> None:
    store = ContentStore(root, "responses", READER)
    seen: dict[int, str] = {}
    changed: list[list] = []
    start.wait()
    rounds = 0
    while not stop.is_set() or rounds < 1:
        rounds += 1
        for i in range(N):
            rec = store.get(key(i))
            if rec is None:
                continue
            assert rec["i"] == i and rec["text"] == f"{rec['writer']} answers {i}"
            if seen.setdefault(i, rec["writer"]) != rec["writer"]:
                changed.append([i, seen[i], rec["writer"]])
    Path(out).write_text(json.dumps({"seen": seen, "changed": changed, "rounds": rounds}))


def test_racing_writers_resolve_to_one_record_per_key_that_no_read_sees_change(tmp_path):
    ctx = mp.get_context("fork")
    start, stop, both_wrote = ctx.Event(), ctx.Event(), ctx.Barrier(2)
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), name, both_wrote, start)) for name in "AB"]
    outs = [tmp_path / f"reader{j}.json" for j in range(2)]
    readers = [ctx.Process(target=_reader, args=(str(tmp_path), str(out), start, stop)) for out in outs]
    for p in writers + readers:
        p.start()
    try:
        for p in writers:
            p.join(120)
    finally:  # whatever happened to the writers, the readers stop
        stop.set()
        for p in readers:
            p.join(120)
        for p in writers + readers:
            if p.is_alive():
                p.kill()
                p.join(10)
    assert [p.exitcode for p in writers + readers] == [0, 0, 0, 0]

    final = ContentStore(tmp_path, "responses")
    truth = {i: final.get(key(i))["writer"] for i in range(N)}
    report = final.verify()
    assert report.clean and report.records == N
    assert report.duplicates >= N // 2  # the writers raced on every key of the first half at least
    assert set(truth.values()) <= {"A", "B"}
    for out in outs:
        data = json.loads(out.read_text())
        assert data["changed"] == []
        assert {int(i): w for i, w in data["seen"].items()} == truth  # the last round saw every key

    # compaction drops the losing duplicates and keeps every winner
    assert final.compact(min_fill=1.0)["duplicates_dropped"] == report.duplicates
    again = ContentStore(tmp_path, "responses")
    assert {i: again.get(key(i))["writer"] for i in range(N)} == truth and again.verify().duplicates == 0
