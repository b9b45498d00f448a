"""One attempt's processes: start them, confine them, run the tests, clean up.

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
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from typing import Callable

from . import isolation, linux, scratch, supervise
from .environment import CLEAN_ENV
from .pytest_runner import run_pytest
from .pytest_session import SessionTemplate
from .stdio_runner import run_stdio


def apply_limits(limits: dict, vm_now: int) -> None:
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


def reset_process_state(workdir: str, home: str, seed: int) -> None:
    """The clean environment, the attempt's folder first on sys.path, seeded random generators."""
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


def close_fds(first: int, keep: set[int]) -> None:
    """Close every descriptor from ``first`` on, except ``keep``."""
    start = first
    for fd in sorted(k for k in keep if k >= first):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 65536)


class AttemptRunner:
    """Runs each request of the host in fresh processes of its own (it never runs attempt code itself).

    Every attempt of a worker runs in the same folder (a fresh tmpfs in mode ``ns``, a folder
    emptied after each attempt in mode ``plain``), so one pytest session set up in the worker
    (``prepare``) serves them all.
    """

    def __init__(self, mode: str, base: str, reap_all: bool = False):
        self.mode = mode  # "ns" or "plain"
        self.base = base  # plain mode: parent of the attempt folder
        self.reap_all = reap_all  # plain mode in a container: kill every leftover process after an attempt
        self.uid, self.gid = os.getuid(), os.getgid()
        self.workdir = isolation.NS_WORKDIR if mode == "ns" else os.path.join(base, f"attempt-{os.getpid()}")
        self.pattern = os.path.join(self.workdir, "solution.py")
        self.template: SessionTemplate | None = None
        self.recorded: dict | None = None  # plain mode in a container: the scratch places before any attempt
        if mode == "plain":
            self._fresh_plain_folder()

    def prepare(self, works: Callable[[SessionTemplate, str], bool]) -> str | None:
        """Set up the shared pytest session and check it with ``works`` (a run in a fork);
        None, or why attempts run ``pytest.main`` instead."""
        try:
            template = SessionTemplate.build(self.workdir, self.pattern)
            if not works(template, self.workdir):
                return "a trial attempt on the shared session did not report its end"
            self.template = template
        except Exception as exc:  # noqa: BLE001 - another pytest's internals: only slower
            return f"{type(exc).__name__}: {exc}"
        finally:
            for name in os.listdir(self.workdir) if os.path.isdir(self.workdir) else ():
                path = os.path.join(self.workdir, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        return None

    def _fresh_plain_folder(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(self.workdir, mode=0o700)

    def run(self, req: dict, reply_fd: int) -> dict:
        limits = req.get("limits", {})
        out_r, out_w = os.pipe()
        rep_r, rep_w = os.pipe()
        st_r, st_w = os.pipe()
        if self.reap_all and self.recorded is None:
            self.recorded = scratch.snapshot([self.base, scratch.SHM])
        start = req["_t0"] = time.monotonic()
        if self.mode != "ns":
            pid = os.fork()
        elif linux.thread_count() == 1:
            pid = linux.clone_into_namespaces()
        else:
            pid = linux.fork_into_namespaces()
        if pid == 0:
            try:
                for fd in (out_r, rep_r, st_r, reply_fd):
                    os.close(fd)
                self._child(req, out_w, rep_w, st_w)
            except BaseException as exc:  # noqa: BLE001 - never return into the worker's loop
                try:
                    os.write(rep_w, (json.dumps({"ev": "setup_error", "msg": f"{type(exc).__name__}: {exc}"})
                                     + "\n").encode())
                except OSError:
                    pass
            finally:
                os._exit(72)
        for fd in (out_w, rep_w, st_w):
            os.close(fd)
        try:
            return supervise.supervise(pid, out_r, rep_r, st_r, start, limits, self.mode)
        finally:
            if self.mode == "plain":
                supervise.quietly(lambda: os.killpg(pid, signal.SIGKILL))  # what is left of the attempt's group
                if self.reap_all:  # a container's own /tmp and /dev/shm: nothing reaches the next attempt
                    supervise.reap_all_others()
                    scratch.restore([self.base, scratch.SHM], self.recorded or {}, self.workdir)
                self._fresh_plain_folder()

    def _child(self, req: dict, out_w: int, rep_w: int, st_w: int) -> None:
        limits = req.get("limits", {})
        vm = linux.vm_bytes()
        if self.mode == "ns":
            isolation.map_ids(self.uid, self.gid)
            workdir = isolation.private_mounts(limits)
            isolation.drop_capabilities()
            home = "/tmp"
            if req.get("kind") == "pytest":
                # This process is PID 1 of the namespace, which the kernel shields from
                # signals sent inside it; pytest (and so the attempt) runs in a child, so
                # that an attempt that kills or aborts itself dies as it would anywhere.
                self._init_process(st_w, out_w, rep_w)
        else:
            workdir = home = self.workdir
        os.close(st_w)
        os.setsid()  # its own session and group: kill(0, ...) reaches nothing outside
        # the attempt runs in this process (pytest) or in its children (stdio programs)
        linux.prctl(linux.PR_SET_DUMPABLE, 1 if req.get("kind") == "pytest" else 0)
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
        pytest_template = self.template if req.get("kind") == "pytest" else None
        close_fds(4, pytest_template.adopt_fds() if pytest_template is not None else set())
        with open(os.path.join(workdir, "solution.py"), "w", encoding="utf-8") as fh:
            fh.write(req["solution"])
        if req.get("kind") == "pytest":
            with open(os.path.join(workdir, "test_solution.py"), "w", encoding="utf-8") as fh:
                fh.write(req["tests"])
        os.chdir(workdir)
        apply_limits(limits, vm)
        reset_process_state(workdir, home, int(req.get("seed", 0)))
        os.write(report_fd, (json.dumps({"ev": "start", "setup_s": round(time.monotonic() - req["_t0"], 4)})
                             + "\n").encode())
        if req.get("kind") == "stdio":
            run_stdio(workdir, report_fd, list(req.get("inputs", [])), max(1, int(limits.get("max_output_kb", 64))) * 1024)
        else:
            run_pytest(workdir, report_fd, req.get("canary"), self.pattern, pytest_template)
        os._exit(0)

    def _init_process(self, st_w: int, out_w: int, rep_w: int) -> None:
        """Fork the attempt's process; stay as the namespace's init and report its status
        on a pipe the attempt does not hold. Returns only in the child."""
        child = os.fork()
        if child == 0:
            return
        linux.prctl(linux.PR_SET_DUMPABLE, 0)  # the attempt (same uid, no capabilities) cannot ptrace us
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
