"""The worker folder: one small package, one framing module, a checked protocol, and a
verdict fingerprint that covers every file of it."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from kodcode.executor import Attempt, Limits, engines
from kodcode.executor.pool import WorkerHandle
from kodcode.executor.service import verdict_key
from kodcode.executor.worker import frames

from .conftest import requires_bwrap

EXECUTOR = Path(engines.__file__).parent
WORKER = engines.WORKER
# what the worker may import besides its own modules: it runs where only the test environment is
ALLOWED_THIRD_PARTY = {"pytest", "_pytest", "coverage"}


def _imports(path: Path) -> tuple[set[str], bool]:
    """(top-level names imported absolutely, whether it imports relatively)."""
    names, relative = set(), False
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                relative = True
            else:
                names.add(node.module.split(".")[0])
    return names, relative


def test_the_worker_imports_nothing_from_kodcode():
    modules = sorted(WORKER.glob("*.py"))
    assert len(modules) > 5
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for path in modules:
        names, _ = _imports(path)
        assert not names - stdlib - ALLOWED_THIRD_PARTY, f"{path.name} imports {names - stdlib - ALLOWED_THIRD_PARTY}"


def test_modules_the_host_shares_are_standard_library_only():
    for name in ("frames.py", "environment.py"):
        names, relative = _imports(WORKER / name)
        assert not relative and names <= set(sys.stdlib_module_names) | {"__future__"}, name


def test_framing_is_written_once():
    """The host speaks frames only through the worker's own module."""
    for path in EXECUTOR.glob("*.py"):
        names, _ = _imports(path)
        assert "struct" not in names, f"{path.name} packs bytes itself; use worker/frames.py"
    buf = frames.encode({"a": 1}) + frames.encode({"b": [2]})[:-1]
    first, rest = frames.split(buf)
    assert first == {"a": 1} and frames.split(rest) == (None, rest)


def test_every_executor_module_is_under_300_lines():
    for path in sorted(EXECUTOR.rglob("*.py")):
        n = len(path.read_text().splitlines())
        assert n < 300, f"{path.relative_to(EXECUTOR)} has {n} lines"


def test_editing_any_worker_file_changes_the_fingerprint(tmp_path, monkeypatch):
    folder = tmp_path / "worker"
    shutil.copytree(WORKER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(engines, "WORKER", folder)
    attempt = Attempt("a", "def f():\n    return 1\n", "from solution import f\n\ndef test_f():\n    assert f() == 1\n")
    before = engines.fingerprint("none")
    assert before["worker"] == engines.folder_digest(WORKER)  # the copy is the same worker
    seen = {verdict_key(attempt, Limits(), before)}
    for path in sorted(folder.glob("*.py")):
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        fp = engines.fingerprint("none")
        assert fp["worker"] != before["worker"], path.name
        seen.add(verdict_key(attempt, Limits(), fp))
        path.write_bytes(original)
    assert len(seen) == 1 + len(list(folder.glob("*.py")))
    (folder / "__pycache__").mkdir(exist_ok=True)
    (folder / "__pycache__" / "frames.cpython-311.pyc").write_bytes(b"bytecode")
    assert engines.fingerprint("none")["worker"] == before["worker"]  # bytecode caches are no worker change


def _fake_worker(hello: dict) -> engines.EngineSpec:
    script = ("import json, os, struct, sys\n"
              f"body = json.dumps({hello!r}).encode()\n"
              "os.write(1, struct.pack('>I', len(body)) + body)\n"
              "sys.stdin.read()\n")
    return engines.EngineSpec("none", [sys.executable, "-I", "-c", script], dict(engines.WORKER_ENV))


def test_a_worker_of_another_protocol_is_refused_in_one_line():
    handle = WorkerHandle(_fake_worker({"hello": True, "protocol": frames.PROTOCOL - 1, "mode": "plain"}), 0)
    with pytest.raises(engines.EngineUnavailable) as err:
        handle.start()
    msg = str(err.value)
    assert "\n" not in msg and f"protocol {frames.PROTOCOL - 1}" in msg and f"speaks {frames.PROTOCOL}" in msg
    assert handle.proc is None
    # a worker from before the protocol number was sent
    with pytest.raises(engines.EngineUnavailable, match="protocol unknown"):
        WorkerHandle(_fake_worker({"hello": True, "mode": "plain"}), 0).start()


def test_container_engines_mount_the_whole_worker_folder(monkeypatch, tmp_path):
    sif = tmp_path / "test-env.sif"
    sif.write_text("image")
    monkeypatch.setattr(engines, "resolve", lambda name, image=None: name)
    for name, image in (("apptainer", str(sif)), ("docker", "kodcode-test-env")):
        argv = engines.build(name, (), image).argv
        assert f"{WORKER}:{engines.IN_IMAGE_DIR}:ro" in argv, argv
        assert argv[argv.index("-I") + 1] == engines.IN_IMAGE_DIR


def test_imports_of_the_preload_list_are_found_by_a_scan():
    from kodcode.executor.worker.zygote import imported_roots

    text = ("import numpy as np, os.path\nfrom pandas import DataFrame\n    import sklearn.linear_model\n"
            "from .local import x\nimport   json\n")
    assert imported_roots(text) == {"numpy", "os", "pandas", "sklearn", "json"}


@requires_bwrap
def test_attempts_using_preloaded_packages_run_in_the_zygote():
    """The worker stays small; an attempt importing a package of the preload list runs in a
    second warm process that has it imported, and gets the same verdict as anywhere."""
    from kodcode.executor.pool import WorkerPool
    from kodcode.executor.service import execute

    def tests(preloaded: bool) -> str:  # whether the package was there before the solution imported it
        return ("import sys\nPRELOADED = 'mailbox' in sys.modules\nfrom solution import *\n\n"
                f"def test_add():\n    assert PRELOADED is {preloaded}\n    assert add(1, 2) == 3\n")

    uses = Attempt("uses", "import mailbox\n\ndef add(a, b):\n    return a + b\n", tests(True))
    plain = Attempt("plain", "def add(a, b):\n    return a + b\n", tests(False))
    wrong = Attempt("wrong", "import mailbox\n\ndef add(a, b):\n    return a - b\n", tests(True))
    pool = WorkerPool("bwrap", workers=1, preload=("mailbox",))
    try:
        assert pool.hello["preload_lazy"] == ["mailbox"]
        assert "mailbox" not in pool.hello["preloaded"]
        res = execute([uses, plain, wrong, plain], Limits(timeout_s=10), pool)
    finally:
        pool.close()
    assert [r.verdict for r in res] == ["pass", "pass", "fail", "pass"], [(r.reason, r.output) for r in res]
    assert "assert -1 == 3" in res[2].output


@requires_bwrap
def test_every_attempt_shares_one_pytest_session_set_up_in_the_worker(bwrap_pool):
    assert bwrap_pool.hello["warmup"]["shared_session"] == "yes"
    assert bwrap_pool.hello["warmup"]["speedups_skipped"] == []


def test_the_shared_session_gives_what_pytest_main_gives(upstream):
    """Real upstream attempts (passing, failing, broken) get the same verdict, reason, test
    names and coverage from the session set up once in the worker as from ``pytest.main``."""
    import re

    from kodcode.executor.pool import WorkerPool
    from kodcode.executor.service import execute

    rows = upstream("*_trials.jsonl")
    rows = [r for r in rows if r["upstream_result"] != "Fail - Timed Out"][::9][:60]
    attempts = [Attempt(f"a{i}", r["solution_code"], r["test_file"]) for i, r in enumerate(rows)]

    def vary(text: str) -> str:  # what differs between any two runs: addresses, durations, nonces, pool folders
        return re.sub(r"0x[0-9a-f]+| in [0-9.]+s|[0-9a-f]{16}|/tmp/\S*kodcode-exec-\w+/attempt-\d+", "", text)

    outcomes = []
    for shared in (True, False):
        pool = WorkerPool("none", workers=1, preload=())
        try:
            if not shared:  # the same worker, told to run pytest.main per attempt
                handle = pool.workers[0]
                handle.kill()
                handle.spec.argv.append("--no-shared-session")
                handle.start()
            assert pool.hello["warmup"]["shared_session"] == ("yes" if shared else "off")
            res = execute(attempts, Limits(timeout_s=20), pool)
        finally:
            pool.close()
        outcomes.append([(r.verdict, vary(r.reason), r.collected, r.passed, r.failed, r.skipped, r.coverage,
                          vary(r.output)) for r in res])
    for shared, plain in zip(*outcomes):
        assert shared == plain
    assert {o[0] for o in outcomes[0]} >= {"pass", "fail"}
