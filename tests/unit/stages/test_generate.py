"""rules/generate.smk (kodcode.stages.generate): a shard's requests served from the response store,
the configured backend asked only for what the store lacks."""

import json

import pytest

from kodcode.jsonl import read_jsonl, write_jsonl
from kodcode.llm.backends import ReplayMiss
from kodcode.llm.client import response_store
from kodcode.llm.request import Request, Response
from kodcode.stages.generate import generate
from kodcode.stages.solutions import solution_requests
from kodcode.templates import load_template

from .records import PAPER_RUN, ROOT


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


def test_the_demo_archive_replays_the_recorded_answers_then_the_store_serves_them(tmp_path, demo_config, authored):
    """The demo config's llm section as it is (replay of demo/archive.jsonl), on the solution
    requests of the recorded demo run's Leetcode questions."""
    requests = str(tmp_path / "requests_000.jsonl")
    solution_requests(subset="Leetcode", in_questions=str(PAPER_RUN / "Leetcode" / "questions" / "deduped.jsonl"),
                      out_paths=[requests], out_stats=str(tmp_path / "requests.stats.json"),
                      params={"model": demo_config["models"]["solution"], "attempts": 3, "seed": demo_config["seed"],
                              "template": load_template("solution_and_tests.txt")})
    llm = {**demo_config["llm"], "replay_archives": [str(ROOT / a) for a in demo_config["llm"]["replay_archives"]]}
    for name in ("first", "again"):
        generate(stage="solutions", subset="Leetcode", requests_file=requests, out_responses=str(tmp_path / f"{name}.jsonl"),
                 out_stats=str(tmp_path / f"{name}.stats.json"), llm_cfg=llm, store_root=str(tmp_path / "store"))
    rows = read_jsonl(tmp_path / "first.jsonl")
    assert [r["text"] for r in rows] == [authored[f"solutions/{r['item_id']}/{r['sample']}"] for r in rows]
    assert read_jsonl(tmp_path / "again.jsonl") == rows
    first, again = (json.loads((tmp_path / f"{n}.stats.json").read_text()) for n in ("first", "again"))
    assert (first["requests"], first["generated"], first["failures"], first["backend"]) == (9, 9, 0, "replay")
    assert (again["cache_hits"], again["generated"]) == (9, 0)
