"""The content store: layout, first write wins, many writers at once, export/import, stats."""

from __future__ import annotations

import json
import multiprocessing as mp
import os

import pytest

from kodcode.hashing import content_hash
from kodcode.store import ContentStore, read_archive


def key(i: int) -> str:
    return content_hash(["k", i])


def rec(i: int, writer: str = "w", stage: str = "solutions") -> dict:
    return {"stage": stage, "writer": writer, "request": {"model": "m"}, "received_at": f"2025-01-01T00:00:{i % 60:02d}+00:00",
            "response": {"text": "x" * 500, "usage": {"prompt_tokens": i, "completion_tokens": 2 * i}}}


def test_put_get_layout_and_first_write_wins(tmp_path):
    s = ContentStore(tmp_path, "responses")
    assert s.get(key(1)) is None and key(1) not in s
    assert s.put(key(1), rec(1, "first")) is True
    assert s.put(key(1), rec(1, "second")) is False
    assert s.get(key(1))["writer"] == "first" and key(1) in s
    assert s.path_for(key(1)) == tmp_path / "responses" / key(1)[:2] / f"{key(1)}.json"
    assert sorted((tmp_path / "responses").iterdir())[0].name == "00"  # fan-out folders exist
    with pytest.raises(ValueError):
        s.path_for("../etc/passwd")


def test_keys_sorted_len_and_stats(tmp_path):
    s = ContentStore(tmp_path, "responses")
    for i in range(30):
        s.put(key(i), rec(i, stage="questions" if i < 10 else "solutions"))
    assert list(s.keys()) == sorted(key(i) for i in range(30)) and len(s) == 30
    st = s.stats()
    assert st["questions"]["records"] == 10 and st["questions"]["prompt_tokens"] == sum(range(10))
    assert st["solutions"]["completion_tokens"] == 2 * sum(range(10, 30)) and st["solutions"]["models"] == ["m"]


def test_rename_fallback_without_hard_links(tmp_path, monkeypatch):
    s = ContentStore(tmp_path, "responses")

    def no_link(*a, **k):
        raise PermissionError("no hard links on this filesystem")

    monkeypatch.setattr(os, "link", no_link)
    assert s.put(key(1), rec(1)) is True and s.put(key(1), rec(1, "again")) is False
    assert s.get(key(1))["writer"] == "w" and not s.stray_temp_files()


def _writer(root: str, wid: int, n_shared: int, n_own: int) -> None:
    s = ContentStore(root, "responses")
    order = list(range(n_shared))
    if wid % 2:
        order.reverse()
    for i in order:
        s.put(key(i), rec(i, f"w{wid}"))
    for j in range(n_own):
        s.put(key(100_000 * (wid + 1) + j), rec(j, f"w{wid}"))


def test_many_processes_write_at_once(tmp_path):
    n_proc, n_shared, n_own = 6, 150, 60
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, n_shared, n_own)) for w in range(n_proc)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    s = ContentStore(tmp_path, "responses")
    assert len(s) == n_shared + n_proc * n_own
    for k, r in s.items():  # every file is one whole record from one writer
        assert r["response"]["text"] == "x" * 500 and r["writer"].startswith("w")
    for path in (tmp_path / "responses").rglob("*.json"):
        json.loads(path.read_text())
    assert not s.stray_temp_files()


def test_export_import_roundtrip(tmp_path):
    a = ContentStore(tmp_path / "a", "responses")
    for i in range(25):
        a.put(key(i), rec(i, stage="questions" if i % 2 else "solutions"))
    assert a.export(tmp_path / "all.jsonl") == 25
    assert a.export(tmp_path / "q.jsonl", keep=lambda r: r["stage"] == "questions") == 12
    lines = (tmp_path / "all.jsonl").read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == sorted(key(i) for i in range(25))
    b = ContentStore(tmp_path / "b", "responses")
    assert b.import_(tmp_path / "q.jsonl") == (12, 0, 0)  # added, present, repaired
    assert b.import_(tmp_path / "all.jsonl") == (13, 12, 0)
    assert dict(b.items()) == dict(a.items()) == read_archive(tmp_path / "all.jsonl")
    b.export(tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "all.jsonl").read_bytes()


def test_read_archive_rejects_garbage(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"key": "ab"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        read_archive(tmp_path / "bad.jsonl")
