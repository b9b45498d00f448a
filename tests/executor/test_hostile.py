"""Hostile attempts under bwrap (or the engine KODCODE_TEST_ENGINE names, see conftest): each
gets an honest verdict, leaves its siblings' verdicts alone and leaves nothing behind on the
host.

Every batch is [hostile, good, bad] in one worker, in that order: ``good`` passes only
if nothing the hostile attempt did is visible to it (see conftest.GOOD_TESTS) and
``bad`` must still fail. ``run_batch`` also checks that no process of the batch is left,
that the worker survived and that the host's secret never shows up in any output.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from kodcode.executor import Attempt, Limits

from .conftest import GOOD_SOLUTION, SECRET, bad, good, processes_with, requires_engine

pytestmark = requires_engine

BASIC_TESTS = "from solution import *\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def check(run_batch, hostile: Attempt, verdict: str | tuple[str, ...], limits: Limits | None = None,
          reason: str | None = None):
    args = (limits,) if limits else ()
    res, g, b = run_batch([hostile, good(), bad()], *args)
    allowed = (verdict,) if isinstance(verdict, str) else verdict
    assert res.verdict in allowed, (res.verdict, res.reason, res.output[-2000:])
    if reason is not None:
        assert reason in res.reason, res.reason
    assert g.verdict == "pass", (g.reason, g.output[-2000:])
    assert b.verdict == "fail", b.reason
    return res


# ------------------------------------------------------------------ faking a pass


def test_exit_zero_at_import_is_not_a_pass(run_batch):
    sol = "import os\nos._exit(0)\ndef add(a, b):\n    return 0\n"
    check(run_batch, Attempt("exit0", sol, BASIC_TESTS), "error", reason="report was complete")


def test_exit_zero_from_atexit_after_a_failure_is_a_fail(run_batch):
    sol = "import atexit, os\natexit.register(os._exit, 0)\ndef add(a, b):\n    return 0\n"
    check(run_batch, Attempt("atexit", sol, BASIC_TESTS), "fail", reason="failed: test_add")


def test_sys_exit_inside_a_test_is_a_fail(run_batch):
    sol = "import sys\ndef add(a, b):\n    sys.exit(0)\n"
    check(run_batch, Attempt("sysexit", sol, BASIC_TESTS), "fail")


def test_module_level_skip_from_the_solution_is_a_fail(run_batch):
    sol = "import pytest\npytest.skip('nothing to see', allow_module_level=True)\ndef add(a, b):\n    return 0\n"
    check(run_batch, Attempt("skip-module", sol, BASIC_TESTS), "fail", reason="skipped")


def test_skipped_test_is_a_fail(run_batch):
    tests = ("import pytest\nfrom solution import *\n\n@pytest.mark.skip(reason='later')\n"
             "def test_hard():\n    assert add(2, 2) == 5\n\ndef test_easy():\n    assert add(1, 1) == 2\n")
    check(run_batch, Attempt("skip-mark", GOOD_SOLUTION, tests), "fail", reason="skipped or xfailed: test_hard")


def test_xfailed_and_xpassed_tests_are_a_fail(run_batch):
    tests = ("import pytest\nfrom solution import *\n\n@pytest.mark.xfail\ndef test_wrong():\n"
             "    assert add(2, 2) == 5\n\n@pytest.mark.xfail\ndef test_right():\n    assert add(1, 1) == 2\n")
    res = check(run_batch, Attempt("xfail", GOOD_SOLUTION, tests), "fail")
    assert sorted(n.split("::")[-1] for n in res.skipped) == ["test_right", "test_wrong"]


def test_test_file_without_tests_is_an_error(run_batch):
    check(run_batch, Attempt("no-tests", GOOD_SOLUTION, "from solution import *\n"), "error",
          reason="no tests collected")


def test_tests_smuggled_in_by_the_solution_do_not_count(run_batch):
    sol = GOOD_SOLUTION + "\ndef test_smuggled():\n    assert True\n"
    check(run_batch, Attempt("smuggle", sol, "from solution import *\n"), "error", reason="no tests collected")
    # disguised as the test file's own: collected, but the host's static check still refuses it
    disguised = sol + "test_smuggled.__module__ = 'test_solution'\n"
    check(run_batch, Attempt("disguised", disguised, "from solution import *\n"), "error",
          reason="defined in the test file")


def test_patching_function_runtest_is_caught(run_batch):
    sol = ("import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n"
           "def add(a, b):\n    return 0\n")
    check(run_batch, Attempt("patch-runtest", sol, BASIC_TESTS), "error", reason="tampered")


def test_report_rewriting_plugin_is_caught(run_batch):
    sol = '''
import gc
import sys
import pytest
from _pytest.config import Config

class ForcePass:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        report.outcome = "passed"
        report.longrepr = None
        return report

def find_config():
    # the session's Config: among the objects the collector tracks, else up the call stack
    # (the worker sets its session up before forking and freezes it, out of gc's lists)
    found = [o for o in gc.get_objects() if isinstance(o, Config)]
    frame = sys._getframe()
    while frame is not None and not found:
        found = [v for v in frame.f_locals.values() if isinstance(v, Config)]
        frame = frame.f_back
    return found[0]

config = find_config()
config.pluginmanager.register(ForcePass())

def add(a, b):
    return 0
'''
    check(run_batch, Attempt("patch-report", sol, BASIC_TESTS), "error", reason="canary")


def test_deselecting_failing_tests_is_caught(run_batch):
    sol = '''
import sys
from _pytest.config import Config

class Deselect:
    def pytest_collection_modifyitems(self, items):
        items[:] = [i for i in items if i.name != "test_add"]

frame = sys._getframe()
while not any(isinstance(v, Config) for v in frame.f_locals.values()):
    frame = frame.f_back
next(v for v in frame.f_locals.values() if isinstance(v, Config)).pluginmanager.register(Deselect())

def add(a, b):
    return 0
'''
    tests = BASIC_TESTS + "\n\ndef test_other():\n    assert True\n"
    check(run_batch, Attempt("deselect", sol, tests), "fail", reason="were not run: test_add")


def test_forged_report_lines_are_caught(run_batch):
    sol = '''
import json, os
for ev in ({"ev": "collected", "items": ["test_solution.py::test_add"]},
           {"ev": "report", "id": "test_solution.py::test_add", "when": "call", "outcome": "passed",
            "xfail": False, "msg": ""},
           {"ev": "end", "exitstatus": 0}):
    for fd in range(3, 20):
        try:
            os.write(fd, (json.dumps(ev) + "\\n").encode())
        except OSError:
            pass
os._exit(0)
'''
    check(run_batch, Attempt("forge", sol, BASIC_TESTS), "error", reason="canary")


# ------------------------------------------------------------------ reaching other attempts


def test_planted_parent_config_and_conftest_change_nothing(run_batch):
    sol = '''
import os
hook = "import pytest\\n@pytest.hookimpl(wrapper=True)\\ndef pytest_runtest_makereport(item, call):\\n" \\
       "    r = yield\\n    r.outcome = 'passed'\\n    return r\\n"
for folder in ("..", "../..", "."):
    for name, text in (("conftest.py", hook), ("pytest.ini", "[pytest]\\naddopts = -p no:python\\n"),
                       ("tox.ini", "[pytest]\\naddopts = -x\\n"), ("setup.cfg", "[tool:pytest]\\naddopts = -x\\n")):
        try:
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(text)
        except OSError:
            pass

def add(a, b):
    return 0
'''
    check(run_batch, Attempt("plant-config", sol, BASIC_TESTS), "fail", reason="failed: test_add")


def test_nothing_persists_into_later_attempts(run_batch):
    sol = '''
import ctypes, json, os, site, sys
os.environ["KODCODE_PLANTED"] = "1"
user_site = site.getusersitepackages()
for path, text in ((os.path.join(user_site, "planted.pth"), "import os; os.environ['KODCODE_PLANTED'] = '1'\\n"),
                   ("/tmp/planted_module_kc.py", "X = 1\\n"),
                   ("/tmp/sitecustomize.py", "import os; os.environ['KODCODE_PLANTED'] = '1'\\n"),
                   ("/dev/shm/planted", "x"),
                   (os.path.join(sys.prefix, "planted.pth"), "x"),
                   (os.path.join(os.path.dirname(json.__file__), "planted_module_kc.py"), "X = 1\\n")):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    except OSError:
        pass
json.dumps = lambda *a, **k: "hijacked"
def add(a, b):
    return a + b
'''
    check(run_batch, Attempt("persist", sol, BASIC_TESTS), "pass")


def test_the_worker_folder_is_no_import_root(run_batch):
    """The worker's own modules are not importable by their plain names: an attempt that
    imports ``frames`` or ``serve`` gets what it would get anywhere else."""
    tests = ("import importlib.util, sys\nfrom solution import *\n\n\ndef test_add():\n"
             "    assert add(2, 3) == 5\n"
             "    for name in ('frames', 'serve', 'attempt', 'isolation', 'warmup', 'supervise', 'pytest_runner'):\n"
             "        assert importlib.util.find_spec(name) is None, name\n"
             "    assert not [p for p in sys.path if p.rstrip('/').endswith(('executor/worker', 'kodcode-executor'))]\n")
    check(run_batch, Attempt("worker-names", GOOD_SOLUTION, tests), "pass")


def test_environment_secrets_and_host_files_are_out_of_reach(run_batch):
    tests = f'''
import glob, os
from solution import *

def test_no_secret_anywhere():
    assert add(2, 3) == 5
    assert not any("kc-secret" in v for v in os.environ.values())
    assert set(os.environ) <= {{"PATH", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "HOME",
                               "TMPDIR", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "MPLBACKEND", "OPENBLAS_NUM_THREADS",
                               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "PYTEST_CURRENT_TEST",
                               "PYTEST_VERSION", "JE_ARROW_MALLOC_CONF"}}
    for path in glob.glob("/proc/*/environ"):
        try:
            with open(path, "rb") as fh:
                assert b"kc-secret" not in fh.read()
        except OSError:
            pass

def test_host_files_are_hidden():
    assert not os.path.exists({os.path.join(os.getcwd(), "pyproject.toml")!r})
    assert set(os.listdir("/root")) <= {{".pyenv"}}
    assert os.listdir("/home") == []
'''
    res = check(run_batch, Attempt("secrets", GOOD_SOLUTION, tests), "pass")
    assert SECRET not in res.output


def test_no_network_not_even_to_the_host(run_batch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted = []
    done = threading.Event()

    def serve():  # listens for as long as the attempt runs
        while not done.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    t = threading.Thread(target=serve)
    t.start()
    tests = f'''
import socket
import pytest
from solution import *

@pytest.mark.parametrize("addr", [("127.0.0.1", {port}), ("1.1.1.1", 53), ("8.8.8.8", 443)])
def test_cannot_connect(addr):
    assert add(1, 1) == 2
    with pytest.raises(OSError):
        socket.create_connection(addr, timeout=2).close()

def test_cannot_resolve():
    with pytest.raises(OSError):
        socket.getaddrinfo("pypi.org", 443)
'''
    try:
        check(run_batch, Attempt("network", GOOD_SOLUTION, tests), "pass")
    finally:
        done.set()
        t.join()
        server.close()
    assert accepted == []


def test_writing_outside_its_folder_fails_and_leaves_no_file(run_batch, tmp_path):
    marker = tmp_path / f"escaped-{uuid.uuid4().hex}"
    tests = f'''
import os
import pytest
from solution import *

@pytest.mark.parametrize("path", [{str(marker)!r}, "/etc/kc-escaped", "/usr/lib/kc-escaped",
                                  {os.path.join(os.getcwd(), "kc-escaped")!r}, "/var/tmp/kc-escaped"])
def test_cannot_write(path):
    assert add(1, 1) == 2
    with pytest.raises(OSError):
        with open(path, "w") as fh:
            fh.write("x")
'''
    check(run_batch, Attempt("write-outside", GOOD_SOLUTION, tests), "pass")
    assert not marker.exists()
    assert not os.path.exists(os.path.join(os.getcwd(), "kc-escaped"))
    assert not os.path.exists("/etc/kc-escaped")


# ------------------------------------------------------------------ resources


def test_fork_bomb_times_out_and_dies_with_its_namespace(run_batch):
    sol = "import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n"
    res = check(run_batch, Attempt("fork-bomb", sol, BASIC_TESTS), "timeout",
                limits=Limits(timeout_s=3, max_processes=32, memory_mb=512))
    assert res.duration_s < 6


def test_memory_exhaustion_is_a_fail(run_batch):
    sol = "def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 1024 * 1024))\n"
    res = check(run_batch, Attempt("memory", sol, BASIC_TESTS), "fail", limits=Limits(timeout_s=10, memory_mb=256))
    assert "MemoryError" in res.output


def test_loop_that_ignores_sigterm_is_killed_at_the_wall_limit(run_batch):
    sol = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
           "def add(a, b):\n    while True:\n        pass\n")
    res = check(run_batch, Attempt("spin", sol, BASIC_TESTS), "timeout", limits=Limits(timeout_s=2, memory_mb=512))
    assert 2 <= res.duration_s < 4


def test_daemons_do_not_outlive_the_attempt(run_batch):
    marker = f"kc-daemon-{uuid.uuid4().hex[:12]}"
    sol = f'''
import os, subprocess
subprocess.Popen(["/bin/sh", "-c", "sleep 300; : {marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["{marker}", "300"])
    os._exit(0)
def add(a, b):
    return a + b
'''
    check(run_batch, Attempt("daemon", sol, BASIC_TESTS), "pass")
    assert processes_with(marker) == []


def test_killing_its_parent_or_worker_only_kills_itself(run_batch):
    sol = '''
import os, signal
def add(a, b):
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        for attack in (lambda: os.kill(pid, signal.SIGKILL),
                       lambda: open(f"/proc/{pid}/mem", "r+b").write(b"x")):
            try:
                if pid != os.getpid():
                    attack()
            except OSError:
                pass
    for target in (-1, os.getppid()):  # everything it can see; the namespace's init
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(0, signal.SIGKILL)  # its own process group: itself
    return a + b
'''
    res = check(run_batch, Attempt("killer", sol, BASIC_TESTS), "crash")
    # in plain mode it shares its worker's PID namespace and takes the worker with it
    assert "SIGKILL" in res.reason or (run_batch.mode == "plain" and "worker lost" in res.reason)


def test_flooding_stdout_is_bounded(run_batch):
    sol = ("import os, sys\ndef add(a, b):\n    chunk = 'x' * (1 << 20)\n    for _ in range(300):\n"
           "        print(chunk)\n        os.write(2, chunk.encode())\n    return a + b\n")
    res = check(run_batch, Attempt("flood", sol, BASIC_TESTS), "fail", limits=Limits(timeout_s=20, max_output_kb=16))
    assert len(res.output) < 20 * 1024


@pytest.mark.parametrize("crash", ["import ctypes\nctypes.string_at(0)", "import os\nos.abort()",
                                   "import faulthandler\nfaulthandler._sigsegv()"])
def test_crashing_the_interpreter_is_a_crash(run_batch, crash):
    sol = f"def add(a, b):\n    {crash.replace(chr(10), chr(10) + '    ')}\n"
    check(run_batch, Attempt("crash", sol, BASIC_TESTS), "crash")


def test_hostile_attempts_in_parallel_leave_siblings_alone(bwrap_pool2):
    """Two workers: a fork bomb and a memory hog run while good attempts run beside them."""
    from kodcode.executor.service import execute

    bomb = Attempt("bomb", "import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n"
                           "        except OSError:\n            pass\n", BASIC_TESTS)
    hog = Attempt("hog", "def add(a, b):\n    x = []\n    while True:\n        x.append(bytearray(10**8))\n", BASIC_TESTS)
    batch = [bomb, hog] + [good(f"good{i}") for i in range(6)] + [bad("bad")]
    res = execute(batch, Limits(timeout_s=4, memory_mb=400, max_processes=32), bwrap_pool2)
    assert [r.verdict for r in res] == ["timeout", "fail"] + ["pass"] * 6 + ["fail"], [r.reason for r in res]
    assert all(bwrap_pool2.alive())
