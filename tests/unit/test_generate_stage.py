import json

import pytest

from kodcode.jsonl import read_jsonl, write_jsonl
from kodcode.llm.backends import ReplayMiss
from kodcode.llm.client import response_store
from kodcode.llm.request import Request, Response
from kodcode.stages.generate import generate


def _shard(tmp_path, n=3):
    reqs = [Request(stage="questions", item_id=f"Q_{i}", sample=0, model="m", messages=(("user", f"q{i}"),))
            for i in range(n)]
    path = tmp_path / "requests.jsonl"
    write_jsonl(path, [{"request": r.to_dict(), "meta": {}} for r in reqs])
    return reqs, path


def test_stored_shard_needs_no_backend(tmp_path):
    reqs, path = _shard(tmp_path)
    store = response_store(str(tmp_path / "store"))
    for r in reqs:
        store.put(r.key, {"request": r.canonical(), "stage": r.stage, "item_id": r.item_id,
                          "response": Response(text=f"answer {r.item_id}").to_dict()})
    # the configured archive does not exist: building the backend would fail, so it is never built
    cfg = {"backend": "replay", "replay_archives": [str(tmp_path / "missing.jsonl")]}
    generate("questions", "S", str(path), str(tmp_path / "out.jsonl"), str(tmp_path / "s.json"), cfg,
             str(tmp_path / "store"))
    assert [r["text"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["answer Q_0", "answer Q_1", "answer Q_2"]
    assert json.loads((tmp_path / "s.json").read_text())["cache_hits"] == 3


def test_a_miss_builds_the_backend_and_reports_it(tmp_path):
    _, path = _shard(tmp_path)
    cfg = {"backend": "replay", "replay_archives": [str(tmp_path / "missing.jsonl")]}
    with pytest.raises(ReplayMiss, match="does not exist"):
        generate("questions", "S", str(path), str(tmp_path / "out.jsonl"), str(tmp_path / "s.json"), cfg,
                 str(tmp_path / "store"))
