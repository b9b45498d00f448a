"""``migrate``: a one-file-per-record store becomes a packed one, record for record, and can be
interrupted and run again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kodcode.hashing import content_hash
from kodcode.store import ContentStore, encode_record, legacy_namespaces, migrate
from kodcode.store import migration as migrate_module


def key(i: object) -> str:
    return content_hash(["m", i])


def old_store(root: Path, ns: str, n: int) -> dict[str, dict]:
    """A store as the one-file layout wrote it (checksummed files, one from before checksums)."""
    recs = {}
    for i in range(n):
        k = key((ns, i))
        rec = {"stage": "questions", "i": i, "text": f"ü {i}" * 20, "response": {"usage": {"prompt_tokens": i}}}
        path = root / ns / k[:2] / f"{k}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_record(rec) if i else json.dumps(rec, sort_keys=True).encode())
        recs[k] = rec
    return recs


def test_migrate_packs_every_record_keeps_damage_out_and_removes_the_files(tmp_path):
    responses = old_store(tmp_path, "responses", 300)
    verdicts = old_store(tmp_path, "verdicts", 50)
    bad = key(("responses", 7))
    bad_path = tmp_path / "responses" / bad[:2] / f"{bad}.json"
    bad_path.write_bytes(bad_path.read_bytes()[:30])
    del responses[bad]
    stray = tmp_path / "responses" / "ab" / ".x.123.tmp"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("half")
    os.utime(stray, (time.time() - 7200,) * 2)
    before = dict(ContentStore(tmp_path, "responses").items())
    assert before == responses and legacy_namespaces(tmp_path) == ["responses", "verdicts"]

    counts = migrate(tmp_path)
    assert counts["responses"].packed == 299 and counts["responses"].damaged == 1
    assert counts["responses"].removed == 299 and counts["responses"].temp_files == 1
    assert counts["verdicts"].packed == 50
    assert not list((tmp_path / "responses").glob("??/*.json")) and not stray.exists()
    assert len(list((tmp_path / "quarantine" / "responses").iterdir())) == 1  # the damaged one, not packed
    store = ContentStore(tmp_path, "responses")
    assert dict(store.items()) == responses and len(store) == 299
    assert store.stats()["questions"]["prompt_tokens"] == sum(r["i"] for r in responses.values())
    assert dict(ContentStore(tmp_path, "verdicts").items()) == verdicts
    files = [p for p in (tmp_path / "responses").rglob("*") if p.is_file()]
    assert len(files) < 10
    # idempotent: nothing left to do
    assert migrate(tmp_path) == {}
    assert migrate(tmp_path, ["responses"])["responses"].packed == 0


def test_an_interrupted_migrate_loses_nothing_and_finishes_when_run_again(tmp_path, monkeypatch):
    recs = old_store(tmp_path, "responses", 500)
    monkeypatch.setattr(migrate_module, "BATCH", 100)
    real_finish = migrate_module._finish
    calls = []

    def crash_after_two(store, done, counts):
        calls.append(len(done))
        if len(calls) == 3:  # the third batch is packed but not yet published: the process dies
            raise KeyboardInterrupt
        real_finish(store, done, counts)

    monkeypatch.setattr(migrate_module, "_finish", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        migrate(tmp_path)
    left = list((tmp_path / "responses").glob("??/*.json"))
    assert len(left) == 300  # two batches of files deleted, once published
    assert dict(ContentStore(tmp_path, "responses").items()) == recs  # every record readable meanwhile

    monkeypatch.setattr(migrate_module, "_finish", real_finish)
    counts = migrate(tmp_path)["responses"]
    assert counts.removed == 300 and counts.packed + counts.present == 300
    store = ContentStore(tmp_path, "responses")
    assert dict(store.items()) == recs and store.verify().clean
    assert not list((tmp_path / "responses").glob("??/*.json"))


def test_new_writes_into_an_unmigrated_store_see_its_records(tmp_path):
    recs = old_store(tmp_path, "responses", 20)
    store = ContentStore(tmp_path, "responses")
    k = next(iter(recs))
    assert store.put(k, {"other": 1}) is False  # the one-file record is there: first writer wins
    assert store.put(key("new"), {"new": 1}) is True
    assert store.get(k) == recs[k] and store.get(key("new")) == {"new": 1} and len(store) == 21
    assert list(store.keys()) == sorted([*recs, key("new")])
    migrate(tmp_path)
    again = ContentStore(tmp_path, "responses")
    assert again.get(k) == recs[k] and len(again) == 21


def test_the_migrate_and_compact_commands_report_in_a_line(tmp_path, capsys):
    from kodcode.store.commands import compact_command, migrate_command

    old_store(tmp_path, "responses", 30)
    assert migrate_command(tmp_path) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'responses'}: 30 records packed, 0 already packed, 30 files removed" in out
    assert migrate_command(tmp_path) == 0 and "nothing to migrate" in capsys.readouterr().out
    assert migrate_command(tmp_path / "nope") == 2 and "no store at" in capsys.readouterr().err
    for w in range(3):
        s = ContentStore(tmp_path, "responses")
        s.put(key(("more", w)), {"w": w})
        s.close()
    assert compact_command(tmp_path, "responses") == 0
    assert "segments" in capsys.readouterr().out and len(ContentStore(tmp_path, "responses")) == 33
