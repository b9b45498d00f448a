"""Record with a real backend, export, then replay from the file alone: same bytes, no traffic."""

from __future__ import annotations

import json

import pytest

from kodcode.cli import main as kodcode_main
from kodcode.jsonl import write_jsonl
from kodcode.llm.backends import make_backend
from kodcode.llm.base import ReplayMiss
from kodcode.llm.client import response_store, run_requests
from kodcode.testing.fake_openai import FakeOpenAIServer

from .conftest import chat, make_backend as backend_for


def release(responses) -> list[dict]:
    return [{"i": i, "text": r.text, "finish_reason": r.finish_reason} for i, r in enumerate(responses)]


def test_replay_of_exported_store_reproduces_outputs(tmp_path, capsys):
    reqs = [chat(i, stage="solutions" if i % 3 else "questions") for i in range(40)]
    with FakeOpenAIServer() as srv:
        out, stats = run_requests(reqs, backend_for(srv), response_store(tmp_path / "paid"), progress=False)
        write_jsonl(tmp_path / "release.jsonl", release(out))
        assert kodcode_main(["store", "export", "--root", str(tmp_path / "paid"), str(tmp_path / "run.jsonl")]) == 0
        served = srv.total_received

        # anyone with the exported file: a fresh store, the replay backend, no server needed
        replay = make_backend({"backend": "replay", "replay_archives": [str(tmp_path / "run.jsonl")]})
        out2, stats2 = run_requests(reqs, replay, response_store(tmp_path / "fresh"), progress=False)
        write_jsonl(tmp_path / "release2.jsonl", release(out2))
        assert srv.total_received == served
    assert (tmp_path / "release2.jsonl").read_bytes() == (tmp_path / "release.jsonl").read_bytes()
    assert stats2.generated == 40 and stats2.failures == 0

    # importing the file into a store serves everything as cache hits
    assert kodcode_main(["store", "import", "--root", str(tmp_path / "imported"), str(tmp_path / "run.jsonl")]) == 0
    out3, stats3 = run_requests(reqs, None, response_store(tmp_path / "imported"), progress=False)
    assert [r.text for r in out3] == [r.text for r in out] and stats3.cache_hits == 40

    capsys.readouterr()
    assert kodcode_main(["store", "stats", "--root", str(tmp_path / "imported"), "--json"]) == 0
    stages = json.loads(capsys.readouterr().out)["stages"]
    assert stages["questions"]["records"] + stages["solutions"]["records"] == 40


def test_replay_miss_lists_what_is_missing(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    replay = make_backend({"backend": "replay", "replay_archives": [str(tmp_path / "empty.jsonl")]})
    with pytest.raises(ReplayMiss, match=r"3 of 3 requests are not recorded .*'questions': 1.*'solutions': 2"):
        run_requests([chat(1, stage="questions"), chat(2), chat(3)], replay, response_store(tmp_path / "s"), progress=False)


def test_store_cli_stats_table(tmp_path, capsys):
    with FakeOpenAIServer() as srv:
        run_requests([chat(i) for i in range(3)], backend_for(srv), response_store(tmp_path), progress=False)
    assert kodcode_main(["store", "stats", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "solutions" in out and "total" in out
    assert kodcode_main(["store", "stats", "--root", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stages"]["solutions"]["records"] == 3
