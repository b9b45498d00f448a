"""The warm worker: runs inside the sandbox and executes one attempt per fork.

Started as ``python -I worker.py [options]`` by the host-side pool (``pool.py``). It must
not import the kodcode package: it runs where only the test environment exists (a bwrap
sandbox, an Apptainer or Docker image). Protocol: length-prefixed JSON frames, requests
on fd 0, replies on the descriptor that was fd 1 at start (fd 1 and 2 then both go to
stderr so stray prints cannot corrupt the stream).

Life of a worker: drop root if asked (attempts never run as uid 0, for which the kernel
ignores RLIMIT_NPROC), import pytest, coverage and the preload list, probe whether
per-attempt namespaces work, run a few throw-away pytest sessions (so every lazily
imported module is loaded and pytest's source caches are filled), ``gc.freeze()``, mark
itself non-dumpable, say hello, then serve requests. It never runs attempt code itself.

Per attempt (mode ``ns``, used under bwrap)::

    worker --clone(new user, mount, PID, net, IPC, UTS namespaces)--> B
        B = PID 1 of a fresh PID namespace: maps its uid, mounts a fresh tmpfs on /tmp
            and /dev/shm (and a fresh /proc where the kernel allows it), brings up its own
            loopback, drops every capability, then forks
        B --fork--> C: the attempt: setsid, rlimits, clean environment, writes the files,
                       runs pytest in-process (warm); stdio cases run as B's children

B only waits for C and reports C's exit status on a pipe C does not hold. Killing B
(SIGKILL, at the wall limit) or B's exit makes the kernel kill everything left in the
namespace, so daemons die with the attempt; the tmpfs goes with its mount namespace, so
nothing an attempt writes reaches a later one. Mode ``plain`` (engine ``none``, and
containers without user namespaces) keeps rlimits, a private folder, a process group and
a clean environment only.

C reports test events as JSON lines on a pipe the worker reads while the attempt runs;
the host decides the verdict from them (see ``verdict.py``), never from an exit code.
"""

from __future__ import annotations

import ctypes
import gc
import io
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

PROTOCOL = 1
STDLIB_PRELOAD = (
    "collections", "typing", "math", "re", "heapq", "itertools", "functools", "bisect", "string",
    "random", "json", "datetime", "decimal", "fractions", "dataclasses", "enum", "io", "contextlib",
    "copy", "operator", "statistics", "textwrap", "unittest", "unittest.mock", "xml.etree.ElementTree",
    "csv", "array", "queue", "threading", "subprocess", "hashlib", "struct", "uuid", "pathlib",
    "tempfile", "runpy", "doctest",
)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 24, 38, 47

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

# The reporter's own references, taken before any attempt code runs: a solution that
# replaces json.dumps or os.write for itself does not break (or steer) the report.
_dumps = json.JSONEncoder(ensure_ascii=True).encode
_os_write = os.write

REPORT_CAP = 8 * 1024 * 1024  # a report larger than this is treated as corrupt

# --------------------------------------------------------------------------------------
# small system helpers


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int = 0) -> int:
    return _libc.prctl(option, arg, 0, 0, 0)


def _mount(src: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _drop_capabilities() -> None:
    """Clear the bounding, ambient, effective, permitted and inheritable sets."""
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0:
            break
    _prctl(PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    hdr, data = Header(0x20080522, 0), (Data * 2)()
    _check(_libc.capset(ctypes.byref(hdr), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _loopback_up() -> None:
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    import fcntl

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


def _send_frame(fd: int, obj: dict) -> None:
    data = json.dumps(obj).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _read_to_end(fd: int) -> bytes:
    """Everything a child writes on a pipe until it closes it; closes ``fd``."""
    data = bytearray()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return bytes(data)


def _recv_frame(fd: int) -> dict | None:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


class _Excerpt:
    """Keeps the head and the tail of a byte stream within a budget."""

    def __init__(self, budget: int):
        self.head_cap = budget // 4
        self.tail_cap = budget - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def text(self) -> str:
        kept = len(self.head) + len(self.tail)
        mid = f"\n[... {self.total - kept} bytes cut ...]\n" if self.total > kept else ""
        return (bytes(self.head).decode("utf-8", "replace") + mid + bytes(self.tail).decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------
# the pytest side (runs in B)


class _Collector:
    """pytest plugin: streams collection and per-phase reports to the report pipe.

    It also injects two canary tests with names chosen by the host, one before and one
    after the real tests, each of which must fail with the host's nonce. A solution that
    makes pytest report every test as passed (patching ``Function.runtest``, the report
    class or a report hook) also makes a canary "pass", which the host sees.
    """

    def __init__(self, fd: int, canary: str | None):
        self.fd = fd
        self.canary = canary

    def emit(self, obj: dict) -> None:
        data = (_dumps(obj) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[_os_write(self.fd, view):]

    def pytest_collection_modifyitems(self, session, config, items):
        import pytest

        if items and self.canary:
            module = items[0].getparent(pytest.Module) or items[0].parent
            # compiled from a string: pytest then finds no source to quote, which keeps
            # formatting the canary's failure cheap
            scope: dict = {"NONCE": self.canary}
            exec(compile("def canary():\n    raise RuntimeError('kodcode-canary ' + NONCE)\n", "<kodcode-canary>", "exec"),
                 scope)
            canary, nonce = scope["canary"], self.canary
            first = pytest.Function.from_parent(module, name=f"test_kc_{nonce}_first", callobj=canary)
            last = pytest.Function.from_parent(module, name=f"test_kc_{nonce}_last", callobj=canary)
            items[:0] = [first]
            items.append(last)
        self.emit({"ev": "collected", "items": [it.nodeid for it in items]})

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit({"ev": "collecterror", "id": report.nodeid, "msg": str(report.longrepr)[-2000:]})
        elif report.skipped:
            self.emit({"ev": "collectskip", "id": report.nodeid, "msg": str(report.longrepr)[-500:]})

    def pytest_runtest_logreport(self, report):
        msg = ""
        if report.failed or report.skipped:
            msg = str(report.longrepr)[-2000:]
        self.emit({"ev": "report", "id": report.nodeid, "when": report.when, "outcome": report.outcome,
                   "xfail": hasattr(report, "wasxfail"), "msg": msg})


def _pytest_args(workdir: str) -> list[str]:
    # -c /dev/null: no ini file is searched for (parents could hold one); --confcutdir
    # stops conftest.py discovery at the attempt's own folder. Plugins the run does not
    # need are not loaded (third-party autoload is off through the environment).
    args = ["-q", "--tb=short", "-c", os.devnull, "--rootdir", workdir, "--confcutdir", workdir,
            "-o", "console_output_style=classic"]
    for plugin in ("cacheprovider", "pastebin", "junitxml", "doctest", "stepwise", "setuponly", "setupplan",
                   "nose", "unraisableexception", "threadexception"):
        args += ["-p", f"no:{plugin}"]
    return args + ["test_solution.py"]


_COVERAGE: dict = {}


def _own_tests_only():
    """pytest plugin: only callables defined in the test file itself are tests.

    pytest (8.4+) also collects a callable that the test file imports under a ``test``
    name (``from heapq import merge as test_merge``) and fails the run on it; the tests an
    attempt wrote are the ones it defines, so imported names are skipped at collection.
    """
    import pytest

    class OwnTestsOnly:
        @pytest.hookimpl(tryfirst=True)
        def pytest_pycollect_makeitem(self, collector, name, obj):
            if isinstance(collector, pytest.Module) and callable(obj):
                if getattr(obj, "__module__", None) != collector.obj.__name__:
                    return []  # an imported name: no test item, and pytest looks no further
            return None

    return OwnTestsOnly()


def _measuring(cov):
    """pytest plugin: line coverage only while tests are collected (the import of the
    solution) or set up, run and torn down; pytest's own bookkeeping runs untraced."""
    import pytest

    class Measure:
        depth = 0  # collection reports nest (session, folder, module)

        def _wrap(self):
            self.depth += 1
            if self.depth == 1:
                cov.start()
            try:
                return (yield)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    cov.stop()

        pytest_make_collect_report = pytest.hookimpl(wrapper=True)(lambda self, collector: (yield from self._wrap()))
        pytest_runtest_setup = pytest.hookimpl(wrapper=True)(lambda self, item: (yield from self._wrap()))
        pytest_runtest_call = pytest.hookimpl(wrapper=True)(lambda self, item: (yield from self._wrap()))
        pytest_runtest_teardown = pytest.hookimpl(wrapper=True)(
            lambda self, item, nextitem: (yield from self._wrap()))

    return Measure()


def _coverage_for(pattern: str):
    """A Coverage object for ``pattern``, created and started once in the worker so that
    the forks skip its slow first start."""
    import coverage

    cov = _COVERAGE.get(pattern)
    if cov is None:  # the worker's warm-up run measures nothing that matches ``pattern``,
        cov = coverage.Coverage(data_file=None, include=[pattern], config_file=False, branch=False)
        _COVERAGE[pattern] = cov  # so a fork starts with empty data and skips the set-up
    return cov


def _run_pytest(workdir: str, report_fd: int, canary: str | None, pattern: str | None = None) -> None:
    import pytest

    collector = _Collector(report_fd, canary)
    solution = os.path.join(workdir, "solution.py")
    cov = _coverage_for(pattern or solution)
    try:
        code = pytest.main(_pytest_args(workdir), plugins=[collector, _own_tests_only(), _measuring(cov)])
    finally:
        if cov._started:  # noqa: SLF001 - a phase that never returned
            cov.stop()
    try:
        _, statements, _, missing, _ = cov.analysis2(solution)
        collector.emit({"ev": "coverage", "statements": len(statements), "missing": len(missing)})
    except Exception:  # solution never imported
        collector.emit({"ev": "coverage", "statements": None, "missing": None})
    sys.stdout.flush()
    sys.stderr.flush()
    collector.emit({"ev": "end", "exitstatus": int(code)})


# --------------------------------------------------------------------------------------
# the stdin/stdout side (runs in B; each case runs in its own child C)


def _run_stdio(workdir: str, report_fd: int, inputs: list[str], out_cap: int) -> None:
    def emit(obj: dict) -> None:
        data = (_dumps(obj) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[_os_write(report_fd, view):]

    executed: set[int] = set()
    for i, text in enumerate(inputs):
        in_fd = os.memfd_create("stdin")
        os.write(in_fd, text.encode("utf-8"))
        os.lseek(in_fd, 0, os.SEEK_SET)
        out_r, out_w = os.pipe()
        cov_r, cov_w = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # C: the attempt's program; B is PID 1 of the namespace and stays out of reach
            try:
                os.close(out_r)
                os.close(cov_r)
                os.close(report_fd)
                os.dup2(in_fd, 0)
                os.dup2(out_w, 1)
                os.close(in_fd)
                os.close(out_w)
                _prctl(PR_SET_DUMPABLE, 1)
                _exec_program(workdir, cov_w)
            finally:
                os._exit(70)
        os.close(out_w)
        os.close(cov_w)
        os.close(in_fd)
        stdout = bytearray()
        truncated = False
        while True:
            chunk = os.read(out_r, 65536)
            if not chunk:
                break
            if len(stdout) < out_cap:
                stdout += chunk[: out_cap - len(stdout)]
            else:
                truncated = True
        os.close(out_r)
        _, status = os.waitpid(pid, 0)
        try:
            with os.fdopen(cov_r, "rb") as fh:
                executed.update(json.loads(fh.read() or b"[]"))
        except (ValueError, TypeError):
            pass
        emit({"ev": "case", "i": i, "stdout": stdout.decode("utf-8", "replace"), "truncated": truncated,
              "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
              "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "duration": round(time.monotonic() - start, 4)})
    statements = _statements(os.path.join(workdir, "solution.py"))
    emit({"ev": "coverage", "statements": len(statements) if statements is not None else None,
          "missing": len(statements - executed) if statements is not None else None})
    emit({"ev": "end", "exitstatus": 0})


def _statements(path: str) -> set[int] | None:
    try:
        import coverage

        cov = coverage.Coverage(data_file=None, include=[path], config_file=False)
        return set(cov.analysis2(path)[1])
    except Exception:
        return None


def _exec_program(workdir: str, cov_w: int) -> None:
    """In C: run solution.py as ``__main__`` with the case on stdin; exit with its status."""
    import runpy

    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=False)
    sys.argv = [os.path.join(workdir, "solution.py")]
    import coverage

    target = os.path.join(workdir, "solution.py")
    cov = coverage.Coverage(data_file=None, include=[target], config_file=False)
    code = 0
    cov.start()
    try:
        runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # the program's own error: its traceback goes to stderr
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        cov.stop()
    try:
        sys.stdout.flush()
    except Exception:
        code = code or 1
    try:
        lines = cov.get_data().lines(target) or []
        os.write(cov_w, json.dumps(sorted(lines)).encode())
    except OSError:
        pass
    os._exit(code & 0xFF)


# --------------------------------------------------------------------------------------
# per-attempt isolation


_pyapi = ctypes.PyDLL(None, use_errno=True)  # calls that keep the GIL, as os.fork does
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "ppc64le": 120, "s390x": 120, "riscv64": 220}.get(os.uname().machine)
NS_FLAGS = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS


def _clone_into_namespaces() -> int:
    """fork() straight into new namespaces: the child is PID 1 of a fresh PID namespace.

    One copy of the (large, warm) worker instead of fork + unshare + fork; Python's own
    before/after-fork handling runs around the raw system call exactly as in os.fork().
    """
    if _SYS_CLONE is None:
        raise OSError(f"clone: unknown system call number on {os.uname().machine}")
    syscall = _pyapi.syscall
    syscall.restype = ctypes.c_long
    syscall.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                        ctypes.c_ulong]
    _pyapi.PyOS_BeforeFork()
    pid = syscall(_SYS_CLONE, NS_FLAGS | signal.SIGCHLD, None, None, None, 0)
    if pid == 0:
        _pyapi.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    _pyapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


def _fork_into_namespaces() -> int:
    """The same for a worker that runs threads (some library started one): a raw clone
    would skip the C library's fork handlers, so fork, unshare, fork. Returns the pid of
    the intermediate process in the worker; killing it kills B (parent-death signal)."""
    pid = os.fork()
    if pid != 0:
        return pid
    try:
        _check(_libc.unshare(NS_FLAGS), "unshare")
        b = os.fork()
    except BaseException:  # noqa: BLE001
        os._exit(72)
    if b == 0:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return 0
    try:
        os.waitpid(b, 0)
    finally:
        os._exit(0)


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


class Worker:
    def __init__(self, mode: str, base: str):
        self.mode = mode  # "ns" or "plain"
        self.base = base  # plain mode: parent of the per-attempt folders
        self.uid, self.gid = os.getuid(), os.getgid()
        self.pattern = NS_SOLUTION if mode == "ns" else os.path.join(base, "a-*", "solution.py")

    # -- in the child (ns mode): map our uid, private filesystems
    def _map_ids(self) -> None:
        _prctl(PR_SET_DUMPABLE, 1)  # /proc/self/*_map must be writable by us
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{self.uid} {self.uid} 1")
        _write("/proc/self/gid_map", f"{self.gid} {self.gid} 1")

    def _private_mounts(self, limits: dict) -> str:
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        size_mb = max(32, 4 * int(limits.get("max_file_mb", 16)))
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,nr_inodes=16384,mode=0755")
        if os.path.isdir("/dev/shm"):
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16m,nr_inodes=1024,mode=1777")
        try:  # a /proc of the attempt's own PID namespace; bwrap's /proc has locked submounts,
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # which may forbid it
        except OSError:
            pass
        try:
            socket.sethostname("sandbox")
            _loopback_up()
        except OSError:
            pass
        workdir = os.path.dirname(NS_SOLUTION)
        os.mkdir(workdir, 0o755)
        return workdir

    def run(self, req: dict, reply_fd: int) -> dict:
        limits = req.get("limits", {})
        timeout = float(limits.get("timeout_s", 30.0))
        out_r, out_w = os.pipe()
        rep_r, rep_w = os.pipe()
        st_r, st_w = os.pipe()
        plain_dir = tempfile.mkdtemp(prefix="a-", dir=self.base) if self.mode == "plain" else None
        start = req["_t0"] = time.monotonic()
        if self.mode != "ns":
            pid = os.fork()
        elif _threads() == 1:
            pid = _clone_into_namespaces()
        else:
            pid = _fork_into_namespaces()
        if pid == 0:
            try:
                os.close(out_r)
                os.close(rep_r)
                os.close(st_r)
                os.close(reply_fd)
                self._child(req, out_w, rep_w, st_w, plain_dir)
            except BaseException as exc:  # noqa: BLE001 - never return into the worker's loop
                try:
                    os.write(rep_w, (json.dumps({"ev": "setup_error", "msg": f"{type(exc).__name__}: {exc}"})
                                     + "\n").encode())
                except OSError:
                    pass
            finally:
                os._exit(72)
        os.close(out_w)
        os.close(rep_w)
        os.close(st_w)
        try:
            res = self._supervise(pid, out_r, rep_r, st_r, start, timeout, limits)
        finally:
            if self.mode == "plain":
                _kill(lambda: os.killpg(pid, signal.SIGKILL))  # what is left of the attempt's group
                if plain_dir:
                    shutil.rmtree(plain_dir, ignore_errors=True)
                if REAP_ALL:
                    _reap_all_others()
        return res

    def _child(self, req, out_w, rep_w, st_w, plain_dir) -> None:
        limits = req.get("limits", {})
        vm = _vm_bytes()
        if self.mode == "ns":
            self._map_ids()
            workdir = self._private_mounts(limits)
            _drop_capabilities()
            home = "/tmp"
            if req.get("kind") == "pytest":
                # This process is PID 1 of the namespace, which the kernel shields from
                # signals sent inside it; pytest (and so the attempt) runs in a child, so
                # that an attempt that kills or aborts itself dies as it would anywhere.
                self._init_process(st_w, out_w, rep_w)
        else:
            workdir = plain_dir
            home = plain_dir
        os.close(st_w)
        os.setsid()  # its own session and group: kill(0, ...) reaches nothing outside
        # the attempt runs in this process (pytest) or in its children (stdio programs)
        _prctl(PR_SET_DUMPABLE, 1 if req.get("kind") == "pytest" else 0)
        # descriptors: stdin from /dev/null, stdout/stderr into the output pipe, the report
        # pipe kept close-on-exec (programs the attempt starts do not inherit it)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        report_fd = 3
        if rep_w != report_fd:
            os.dup2(rep_w, report_fd, inheritable=False)
        else:
            os.set_inheritable(report_fd, False)
        os.closerange(4, 65536)
        with open(os.path.join(workdir, "solution.py"), "w", encoding="utf-8") as fh:
            fh.write(req["solution"])
        if req.get("kind") == "pytest":
            with open(os.path.join(workdir, "test_solution.py"), "w", encoding="utf-8") as fh:
                fh.write(req["tests"])
        os.chdir(workdir)
        _apply_limits(limits, vm)
        _reset_process_state(workdir, home, int(req.get("seed", 0)))
        os.write(report_fd, (json.dumps({"ev": "start", "setup_s": round(time.monotonic() - req["_t0"], 4)})
                             + "\n").encode())
        if req.get("kind") == "stdio":
            _run_stdio(workdir, report_fd, list(req.get("inputs", [])),
                       max(1, int(limits.get("max_output_kb", 64))) * 1024)
        else:
            _run_pytest(workdir, report_fd, req.get("canary"), self.pattern)
        os._exit(0)

    def _init_process(self, st_w: int, out_w: int, rep_w: int) -> None:
        """Fork the attempt's process; stay as the namespace's init and report its status
        on a pipe the attempt does not hold. Returns only in the child."""
        child = os.fork()
        if child == 0:
            return
        _prctl(PR_SET_DUMPABLE, 0)  # the attempt (same uid, no capabilities) cannot ptrace us
        os.close(out_w)
        os.close(rep_w)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            _, status = os.waitpid(child, 0)
            os.write(st_w, f"X {status}\n".encode())
        finally:
            os._exit(0)  # the kernel now kills whatever the attempt left in the namespace

    def _supervise(self, pid, out_r, rep_r, st_r, start, timeout, limits) -> dict:
        excerpt = _Excerpt(max(1, int(limits.get("max_output_kb", 64))) * 1024)
        report = bytearray()
        report_overflow = False
        timed_out = False
        status = None
        deadline = start + timeout
        kill_deadline = None
        try:
            exit_fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            exit_fd = None  # older kernel: poll waitpid instead
        watched = {out_r, rep_r, st_r} | ({exit_fd} if exit_fd is not None else set())
        st_buf = bytearray()

        def take(fd: int, chunk: bytes) -> None:
            nonlocal report_overflow
            if fd == out_r:
                excerpt.add(chunk)
            elif fd == st_r:
                st_buf.extend(chunk[:256])
            elif len(report) + len(chunk) <= REPORT_CAP:
                report.extend(chunk)
            else:
                report_overflow = True

        def pump(ready: list[int]) -> None:
            """Read what is ready; an empty read means that writer is gone."""
            for fd in ready:
                if fd == exit_fd:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if chunk:
                    take(fd, chunk)
                else:
                    watched.discard(fd)

        while status is None:
            now = time.monotonic()
            if not timed_out and now >= deadline:
                timed_out = True
                self._kill_attempt(pid)
                kill_deadline = now + 10.0
            if kill_deadline is not None and now >= kill_deadline:
                break
            limit = (deadline if not timed_out else kill_deadline) - now
            wait = max(0.0, min(limit, 1.0 if exit_fd is not None else 0.02))
            ready, _, _ = select.select(list(watched), [], [], wait)
            pump(ready)
            if exit_fd is None or exit_fd in ready:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
        duration = time.monotonic() - start
        if exit_fd is not None:
            os.close(exit_fd)
            watched.discard(exit_fd)
        if self.mode == "plain":
            _kill(lambda: os.killpg(pid, signal.SIGKILL))
        # ns mode: B was PID 1, so its namespace is empty now and every writer is gone;
        # plain mode: the group is killed. Drain without waiting on stray writers.
        grace = time.monotonic() + 0.2
        while watched and time.monotonic() < grace:
            ready, _, _ = select.select(list(watched), [], [], 0.05)
            pump(ready)
        for fd in (out_r, rep_r, st_r):
            os.close(fd)
        if status is None:  # could not be killed within 10 s: leave it to the host
            try:
                _, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        for line in bytes(st_buf).decode("ascii", "replace").splitlines():
            if line.startswith("X ") and line[2:].strip().lstrip("-").isdigit():
                status = int(line[2:])  # the attempt's own status, from the namespace's init
        decoded = None
        if status:
            if os.WIFEXITED(status):
                decoded = {"exited": os.WEXITSTATUS(status)}
            elif os.WIFSIGNALED(status):
                decoded = {"signaled": os.WTERMSIG(status)}
        elif status == 0:
            decoded = {"exited": 0}
        return {
            "report": bytes(report).decode("utf-8", "replace"),
            "report_overflow": report_overflow,
            "status": decoded,
            "timed_out": timed_out,
            "duration": round(duration, 4),
            "output": excerpt.text(),
            "output_bytes": excerpt.total,
            "mode": self.mode,
        }

    def _kill_attempt(self, pid: int) -> None:
        if self.mode == "ns":  # PID 1 of the attempt's namespace: the kernel kills the rest
            _kill(lambda: os.kill(pid, signal.SIGKILL))
        else:
            _kill(lambda: os.killpg(pid, signal.SIGKILL))


def _kill(fn) -> None:
    try:
        fn()
    except (ProcessLookupError, PermissionError):
        pass


def _apply_limits(limits: dict, vm_now: int) -> None:
    mb = 1024 * 1024
    mem = int(limits.get("memory_mb", 2048)) * mb + vm_now
    fsize = int(limits.get("max_file_mb", 16)) * mb
    nproc = int(limits.get("max_processes", 64))
    cpu = int(float(limits.get("timeout_s", 30))) + 2
    for res, value in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0),
                       (resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_NOFILE, 1024)):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    # over-size writes fail with EFBIG (an exception in the test) instead of killing pytest
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _reset_process_state(workdir: str, home: str, seed: int) -> None:
    import importlib

    os.environ.clear()
    os.environ.update(CLEAN_ENV)
    os.environ["HOME"] = home
    os.environ["TMPDIR"] = home
    tempfile.tempdir = None
    sys.path[:0] = [workdir]
    # only the attempt's folder is new; clearing the whole cache would free (and so
    # copy-on-write) thousands of the worker's objects
    for path in (workdir, os.path.dirname(workdir)):
        sys.path_importer_cache.pop(path, None)
    importlib.invalidate_caches()
    for name in ("solution", "test_solution", "conftest"):
        sys.modules.pop(name, None)
    import random

    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            np.random.seed(seed % (2**32))
        except Exception:
            pass


def _reap_all_others() -> None:
    """Plain mode inside a container's own PID namespace: kill every other process."""
    me = os.getpid()
    keep = {me, 1, os.getppid()}
    for _ in range(20):
        victims = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in keep:
                victims.append(int(entry))
        if not victims:
            return
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in victims:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)


# --------------------------------------------------------------------------------------
# start-up


CLEAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",  # pyarrow's allocator: no thread in the worker
}
REAP_ALL = False
NS_SOLUTION = "/tmp/attempt/solution.py"

WARMUP = [  # (solution, tests): the common shapes of passing and failing attempts
    ("def add(a, b):\n    return a + b\n",
     "from solution import *\nimport pytest\n\n"
     "def test_add():\n    assert add(1, 2) == 3\n\n"
     "@pytest.mark.parametrize('a', [1, 2])\ndef test_param(a, tmp_path, capsys, monkeypatch):\n"
     "    print(a)\n    assert add(a, 0) == a\n\n"
     "def test_fails():\n    assert add(1, 1) == {'x': [3]}\n\n"
     "def test_raises_inside():\n    add(1, None)\n\n"
     "class TestGroup:\n    def test_raises(self):\n        with pytest.raises(TypeError):\n            add(1, None)\n"),
    ("def add(a, b):\n    return a + b\n", "from solution import missing_name\n\ndef test_a():\n    pass\n"),
    ("def add(a, b):\n    return a + b\n", "from solution import *\n\ndef test_a(:\n    pass\n"),
    ("import no_such_module_kodcode\n", "from solution import *\n\ndef test_a():\n    pass\n"),
    ("def f(:\n", "from solution import *\n\ndef test_a():\n    assert f()\n"),
]


def _memoize_statement_ranges() -> None:
    """Cache pytest's statement-range lookups, filled by the warm-up: formatting a
    traceback otherwise re-parses pytest's and importlib's own (large) sources in
    every fork, which made failing attempts several times slower than passing ones."""
    import hashlib

    from _pytest._code import code as _code
    from _pytest._code import source as _source

    original = _source.getstatementrange_ast
    cache: dict = {}

    def getstatementrange_ast(lineno, source, assertion=False, astnode=None):
        if astnode is not None:
            return original(lineno, source, assertion, astnode)
        key = (lineno, assertion, hashlib.sha1(str(source).encode("utf-8", "surrogatepass")).digest())
        hit = cache.get(key)
        if hit is None:
            hit = original(lineno, source, assertion, None)
            if len(cache) < 4096:
                cache[key] = hit
        return hit

    _source.getstatementrange_ast = getstatementrange_ast
    _code.getstatementrange_ast = getstatementrange_ast


def _warm_up(base: str, pattern: str, cases: int | None = None) -> dict:
    """Real pytest sessions in this process, so that forks start with every module loaded
    and every cache filled; then one in a fork, to check that a fork works. ``cases``: how
    many of the warm-up attempts to run (all by default; a small batch needs only the first,
    as priming the rarer paths costs more than it saves over a few attempts)."""
    start = time.monotonic()
    try:
        _memoize_statement_ranges()
    except Exception:  # another pytest layout: only slower
        pass
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    cwd = os.getcwd()
    work = ""
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        for solution, tests in WARMUP[:cases]:
            work = tempfile.mkdtemp(prefix="warmup-", dir=base)
            with open(os.path.join(work, "solution.py"), "w") as fh:
                fh.write(solution)
            with open(os.path.join(work, "test_solution.py"), "w") as fh:
                fh.write(tests)
            r, w = os.pipe()
            try:
                os.chdir(work)
                sys.path.insert(0, work)
                _run_pytest(work, w, "0" * 16, pattern)
                _statements(os.path.join(work, "solution.py"))  # warms coverage's parser and tokenizer
            finally:
                os.close(w)
                while os.read(r, 65536):
                    pass
                os.close(r)
                os.chdir(cwd)
                sys.path.remove(work)
                for name in ("solution", "test_solution", "no_such_module_kodcode"):
                    sys.modules.pop(name, None)
                shutil.rmtree(work, ignore_errors=True)
        # the check in a fork
        work = tempfile.mkdtemp(prefix="warmup-", dir=base)
        with open(os.path.join(work, "solution.py"), "w") as fh:
            fh.write(WARMUP[0][0])
        with open(os.path.join(work, "test_solution.py"), "w") as fh:
            fh.write(WARMUP[0][1])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.chdir(work)
                sys.path.insert(0, work)
                _run_pytest(work, w, "0" * 16)
            finally:
                os._exit(0)
        os.close(w)
        child_report = _read_to_end(r)
        os.waitpid(pid, 0)
        shutil.rmtree(work, ignore_errors=True)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
    events = [json.loads(line) for line in child_report.decode().splitlines() if line.strip()]
    ok = any(e.get("ev") == "end" for e in events)
    return {"seconds": round(time.monotonic() - start, 3), "ok": ok, "cases": len(WARMUP[:cases])}


def _probe_namespaces() -> str | None:
    """None when per-attempt namespaces work here, else the reason they do not."""
    r, w = os.pipe()
    try:
        pid = _clone_into_namespaces()
    except OSError as exc:
        os.close(r)
        os.close(w)
        return str(exc)
    if pid == 0:
        try:
            os.close(r)
            Worker("ns", "")._map_ids()
            _mount("none", "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
            os.write(w, b"ok")
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{exc}".encode())
        finally:
            os._exit(0)
    os.close(w)
    msg = _read_to_end(r)
    os.waitpid(pid, 0)
    text = msg.decode("utf-8", "replace")
    return None if text == "ok" else (text or "namespace probe died")


def main(argv: list[str]) -> int:
    import argparse

    global REAP_ALL
    ap = argparse.ArgumentParser(prog="worker.py")
    ap.add_argument("--mode", choices=["ns", "plain", "auto"], default="auto")
    ap.add_argument("--preload", default="")
    ap.add_argument("--drop-uid", type=int, default=None)
    ap.add_argument("--drop-gid", type=int, default=None)
    ap.add_argument("--base", default=None, help="plain mode: folder for per-attempt folders")
    ap.add_argument("--reap-all", action="store_true", help="plain mode in a container: kill leftovers")
    ap.add_argument("--warm-up", choices=["full", "light"], default="full",
                    help="light: one warm-up attempt instead of all (small batches)")
    args = ap.parse_args(argv)

    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints from imports go to stderr, never into the reply stream
    os.set_inheritable(reply_fd, False)

    if os.getuid() == 0 and args.drop_uid is not None:
        gid = args.drop_gid if args.drop_gid is not None else args.drop_uid
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(args.drop_uid, args.drop_uid, args.drop_uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.environ.update(CLEAN_ENV)
    REAP_ALL = args.reap_all
    sys.dont_write_bytecode = True

    base = args.base or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    os.environ.setdefault("HOME", base)
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(base, "mpl"))
    loaded, failed = [], {}
    for name in ("pytest", "coverage", *STDLIB_PRELOAD, *[p for p in args.preload.split(",") if p]):
        try:
            __import__(name)
            loaded.append(name)
        except BaseException as exc:  # noqa: BLE001 - a broken optional package must not stop the worker
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    mode = args.mode
    ns_error = None
    if mode in ("ns", "auto"):
        ns_error = _probe_namespaces()
        if ns_error is None:
            mode = "ns"
        elif mode == "ns":
            _send_frame(reply_fd, {"hello": False, "error": f"per-attempt namespaces unavailable: {ns_error}"})
            return 2
        else:
            mode = "plain"
    worker = Worker(mode, base)
    warm = _warm_up(base, worker.pattern, 1 if args.warm_up == "light" else None)

    import coverage
    import pytest

    if _threads() > 1:
        sys.stderr.write("kodcode worker: a preloaded module started a thread; attempts fork the slower, "
                         "thread-safe way\n")
    gc.collect()
    gc.freeze()
    _prctl(PR_SET_DUMPABLE, 0)  # attempts (same uid) cannot ptrace us or read /proc/<worker>/mem
    _send_frame(reply_fd, {
        "hello": True, "protocol": PROTOCOL, "mode": mode, "ns_error": ns_error, "pid": os.getpid(),
        "uid": os.getuid(), "python": sys.version.split()[0], "pytest": pytest.__version__,
        "coverage": coverage.__version__, "threads": _threads(), "preloaded": loaded, "preload_failed": failed,
        "warmup": warm,
    })
    while True:
        req = _recv_frame(0)
        if req is None or req.get("op") == "quit":
            return 0
        try:
            res = worker.run(req, reply_fd)
        except Exception as exc:  # noqa: BLE001 - a worker bug must not look like a verdict
            res = {"internal_error": f"{type(exc).__name__}: {exc}"}
        res["id"] = req.get("id")
        _send_frame(reply_fd, res)


def _fixed_hash_seed(argv: list[str]) -> None:
    """Start over with string hashing seeded by PYTHONHASHSEED=0, so that a test that depends
    on the order of a set or dict of strings gets the same verdict in every worker.

    Engines start the worker with ``python -I``, which ignores every PYTHON* variable, the
    hash seed included; the interpreter is therefore started again, before anything else
    happens, with the clean environment and the parts of -I that do not read it: no user
    site-packages (-s) and no script folder on sys.path (-P, or removed by hand on 3.10).
    """
    if not sys.flags.hash_randomization or "--hash-seeded" in argv:
        return
    flags = ["-s", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])
    # the engine's environment, whose PYTHON* variables -I ignored: only ours are read now
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({k: v for k, v in CLEAN_ENV.items() if k.startswith("PYTHON")})
    os.execve(sys.executable, [sys.executable, *flags, os.path.abspath(__file__), "--hash-seeded", *argv], env)


if __name__ == "__main__":
    _fixed_hash_seed(sys.argv[1:])
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)  # Python 3.10 has no -P: the worker's folder is no import root for attempts
    sys.exit(main([a for a in sys.argv[1:] if a != "--hash-seeded"]))
