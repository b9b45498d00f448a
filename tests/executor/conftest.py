"""Shared fixtures: one warm pool per module, and checks of the host after a batch.

The pools use bwrap unless KODCODE_TEST_ENGINE names another engine (docker, apptainer) with
its image in KODCODE_TEST_IMAGE: the hostile suite then runs through that engine
(.ci/docker-stage runs it through the test-env image, docs/containers.md).
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from kodcode.executor import Attempt, Limits
from kodcode.executor.engines import bwrap_problem

SECRET = f"kc-secret-{uuid.uuid4().hex}"
os.environ["KODCODE_TEST_SECRET"] = SECRET  # set before any worker starts: must never reach one

requires_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"bwrap unusable here: {bwrap_problem()}")

# the engine the hostile suite's pools use (tests that need bwrap itself keep requires_bwrap)
ENGINE = os.environ.get("KODCODE_TEST_ENGINE", "bwrap")
IMAGE = os.environ.get("KODCODE_TEST_IMAGE") or None


def engine_problem() -> str | None:
    if ENGINE == "bwrap":
        return bwrap_problem()
    from kodcode.executor.engines import EngineUnavailable, resolve

    try:
        resolve(ENGINE, IMAGE)
    except (EngineUnavailable, ValueError) as exc:
        return f"KODCODE_TEST_ENGINE={ENGINE}: {exc}"
    return None


requires_engine = pytest.mark.skipif(engine_problem() is not None, reason=f"engine unusable: {engine_problem()}")

GOOD_SOLUTION = "def add(a, b):\n    return a + b\n"
# A sibling that passes only if nothing an earlier attempt did is visible to it.
GOOD_TESTS = '''
import glob
import json
import os

from solution import *


def test_add():
    assert add(2, 3) == 5


def test_nothing_planted_is_visible():
    assert "KODCODE_PLANTED" not in os.environ
    assert sorted(os.listdir(".")) == ["solution.py", "test_solution.py"]
    if os.getcwd() == "/tmp/attempt":  # own namespaces: a fresh /tmp and /dev/shm for each attempt
        assert sorted(os.listdir("/tmp")) == ["attempt"]
        assert glob.glob("/dev/shm/*") == []
    else:  # plain mode (a container that forbids nested namespaces): a private folder in the
        # container's /tmp, which the worker puts back as it was after each attempt
        assert os.path.dirname(os.getcwd()) == "/tmp"
        assert glob.glob("/tmp/*planted*") + glob.glob("/tmp/sitecustomize*") == []
        assert [p for p in glob.glob("/tmp/*") if p != os.getcwd() and "attempt-" in p] == []
        assert glob.glob("/dev/shm/*") == []
    assert not os.path.exists(os.path.expanduser("~/.local"))
    try:
        import planted_module_kc  # noqa: F401
    except ImportError:
        pass
    else:
        raise AssertionError("a module planted by another attempt is importable")
    assert json.dumps([1]) == "[1]"
'''
BAD_SOLUTION = "def add(a, b):\n    return a - b\n"
BAD_TESTS = "from solution import *\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def good(name: str = "good") -> Attempt:
    return Attempt(name, GOOD_SOLUTION, GOOD_TESTS)


def bad(name: str = "bad") -> Attempt:
    return Attempt(name, BAD_SOLUTION, BAD_TESTS)


def sandbox_processes(pool) -> set[int]:
    """Host PIDs below the pool's workers (bwrap, its init, the worker and attempts)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: set[int] = set()
    todo = [w.proc.pid for w in pool.workers if w.proc is not None]
    while todo:
        pid = todo.pop()
        out.add(pid)
        todo.extend(children.get(pid, []))
    return out


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def settled(pool, before: set[int], seconds: float = 5.0) -> set[int]:
    """Sandbox processes after a batch, once stragglers had a moment to die."""
    deadline = time.monotonic() + seconds
    now = sandbox_processes(pool)
    while now - before and time.monotonic() < deadline:
        time.sleep(0.1)
        now = sandbox_processes(pool)
    return now


@pytest.fixture(scope="session")
def bwrap_pool():
    """One warm worker of the engine under test (bwrap unless KODCODE_TEST_ENGINE says
    otherwise): a batch runs in order, so a hostile attempt runs first and its siblings after
    it, in the same worker."""
    if engine_problem() is not None:
        pytest.skip(engine_problem())
    from kodcode.executor.pool import WorkerPool

    pool = WorkerPool(ENGINE, workers=1, preload=(), image=IMAGE)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def bwrap_pool2():
    if engine_problem() is not None:
        pytest.skip(engine_problem())
    from kodcode.executor.pool import WorkerPool

    pool = WorkerPool(ENGINE, workers=2, preload=(), image=IMAGE)
    yield pool
    pool.close()


@pytest.fixture
def run_batch(bwrap_pool):
    """Run attempts in order in one worker; returns results and checks nothing survived."""
    from kodcode.executor.service import execute

    def run(attempts, limits: Limits = Limits(timeout_s=10, memory_mb=512)):
        before = sandbox_processes(bwrap_pool)
        workers = [w.proc.pid for w in bwrap_pool.workers]
        results = execute(attempts, limits, bwrap_pool)
        # in plain mode (docker's default seccomp profile) an attempt shares its worker's PID
        # namespace and can kill it: the pool starts another, the verdicts must still be right
        restarted = [w.proc.pid for w in bwrap_pool.workers] != workers
        assert not (restarted and bwrap_pool.hello.get("mode") == "ns"), "a worker had to be restarted"
        if not restarted:  # (a new worker's processes are new, not left over)
            after = settled(bwrap_pool, before)
            assert after - before == set(), "processes of an attempt outlived it"
        assert all(bwrap_pool.alive()), "the attempt took its worker down"
        for r in results:
            assert SECRET not in r.output
        return results

    run.mode = bwrap_pool.hello.get("mode")  # "ns", or "plain" in a container without nested namespaces
    return run
