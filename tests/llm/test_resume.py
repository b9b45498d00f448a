"""A run killed with SIGKILL halfway and restarted asks for nothing twice and ends the same."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kodcode.llm.client import response_store
from kodcode.llm.openai_backend import OpenAIBackend, OpenAIConfig
from kodcode.testing.fake_openai import FakeOpenAIServer, fingerprint

from ._child import batch

N = 160
CHILD = [sys.executable, "-m", "tests.llm._child"]
ROOT = Path(__file__).resolve().parents[2]


def run_child(srv, store: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CHILD, srv.base_url, str(store), str(out), str(N)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_killed_run_resumes_without_duplicate_requests(tmp_path):
    reqs = batch(N)
    shaper = OpenAIBackend(OpenAIConfig(base_url="http://127.0.0.1:1/v1", api_key_env=None))
    fp_of = {r.key: fingerprint(shaper.body_for(r)[1]) for r in reqs}
    assert len(set(fp_of.values())) == N  # every sample is its own request

    with FakeOpenAIServer(delay_s=0.03) as srv:
        # the reference: one uninterrupted run into its own store
        ref = run_child(srv, tmp_path / "ref-store", tmp_path / "ref.jsonl")
        assert ref.wait(timeout=60) == 0, ref.stderr.read().decode()
        srv.reset_counts()

        store_dir = tmp_path / "store"
        store = response_store(store_dir)
        child = run_child(srv, store_dir, tmp_path / "out.jsonl")
        deadline = time.time() + 30
        while len(store) < N // 3 and time.time() < deadline:
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL
        stored = set(store.keys())
        assert N // 3 <= len(stored) < N, "the kill must land mid-batch"
        assert not (tmp_path / "out.jsonl").exists()
        first = dict(srv.received)
        srv.reset_counts()

        again = run_child(srv, store_dir, tmp_path / "out.jsonl")
        assert again.wait(timeout=60) == 0, again.stderr.read().decode()
        second = dict(srv.received)

    # nothing that was stored before the kill is asked for again ...
    assert all(second.get(fp_of[k], 0) == 0 for k in stored)
    # ... everything else is asked for exactly once by the restart ...
    missing = [k for k in fp_of if k not in stored]
    assert all(second.get(fp_of[k]) == 1 for k in missing)
    assert sum(second.values()) == len(missing)
    # ... the only repeats across both runs are the few in flight at the kill (concurrency 4)
    repeats = [k for k in missing if first.get(fp_of[k], 0) > 0]
    assert len(repeats) <= 4 + 4  # in flight + received but not yet written
    # and the outputs are byte for byte those of the uninterrupted run
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    assert len(store) == N
