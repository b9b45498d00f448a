"""A pytest session set up once in the worker and run in every attempt's process.

``pytest.main`` spends most of a small attempt's time before the first test: building the
plugin manager and option parser, configuring some thirty plugins, and the fixture
manager's scan of every plugin at session start. None of that depends on the attempt,
since every attempt of a worker runs in the same folder with the same arguments, so the
worker does it once (``SessionTemplate.build``) and each fork only collects, runs and
finishes (``SessionTemplate.run``), as ``_pytest.main.wrap_session`` would after
``pytest_sessionstart``. The fork gets a copy: nothing it does reaches the worker's session.

Set-up leaves a few descriptors open (faulthandler's copy of stderr, the log file handler's
/dev/null). The attempt keeps them at the same numbers, the stderr copy pointed at its own
output; any other kind of descriptor makes ``build`` fail, and the worker then runs plain
``pytest.main`` per attempt.
"""

from __future__ import annotations

import os
import sys

from .measure import coverage_for, measuring
from .pytest_plugins import Reporter, own_tests_only, pytest_args

FIRST_FREE_FD = 4  # 0-2 and the report pipe (3) are the attempt's own


def _open_fds() -> set[int]:
    out = set()
    for fd in range(1024):
        try:
            os.fstat(fd)
        except OSError:
            continue
        out.add(fd)
    return out


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


class SessionTemplate:
    def __init__(self, config, session, reporter: Reporter, fds: dict[int, str]):
        self.config = config
        self.session = session
        self.reporter = reporter
        self.fds = fds  # descriptor -> "stderr" or "null"

    @classmethod
    def build(cls, workdir: str, pattern: str) -> "SessionTemplate":
        """Configure pytest and start a session for ``workdir`` in this process (the worker)."""
        from _pytest.config import _prepareconfig
        from _pytest.main import ExitCode, Session

        held = []  # keep 0-3 taken, so that what set-up opens lands at FIRST_FREE_FD or above
        while True:
            fd = os.open(os.devnull, os.O_RDONLY)
            if fd >= FIRST_FREE_FD:
                os.close(fd)
                break
            held.append(fd)
        before, cwd = _open_fds(), os.getcwd()
        os.makedirs(workdir, exist_ok=True)
        os.chdir(workdir)
        try:
            reporter = Reporter(-1, None)
            config = _prepareconfig(pytest_args(workdir), [reporter, own_tests_only(), measuring(coverage_for(pattern))])
            # global capture holds temporary files: each attempt starts its own (``run``)
            config.pluginmanager.getplugin("capturemanager").stop_global_capturing()
            session = Session.from_config(config)
            session.exitstatus = ExitCode.OK
            config._do_configure()
            config.hook.pytest_sessionstart(session=session)
        finally:
            os.chdir(cwd)
            for fd in held:
                os.close(fd)
        sys.stdout.flush()
        stderr, null = _identity(2), os.open(os.devnull, os.O_RDONLY)
        try:
            fds = {}
            for fd in sorted(_open_fds() - before - {null}):
                kind = {stderr: "stderr", _identity(null): "null"}.get(_identity(fd))
                if kind is None:
                    raise RuntimeError(f"pytest set-up left descriptor {fd} open on {os.readlink(f'/proc/self/fd/{fd}')}")
                fds[fd] = kind
        finally:
            os.close(null)
        return cls(config, session, reporter, fds)

    def adopt_fds(self) -> set[int]:
        """In the attempt, after fds 0-3 are its own: point the stderr copies at its output;
        returns the descriptors to keep open."""
        for fd, kind in self.fds.items():
            if kind == "stderr":
                os.dup2(2, fd, inheritable=False)
        return set(self.fds)

    def run(self, report_fd: int, canary: str | None) -> int:
        """Collect, run and finish the session in this process (the attempt); the exit status."""
        import pytest
        from _pytest import timing
        from _pytest._code import ExceptionInfo
        from _pytest.main import ExitCode
        from _pytest.outcomes import Exit, Failed

        config, session = self.config, self.session
        self.reporter.fd, self.reporter.canary = report_fd, canary
        capman = config.pluginmanager.getplugin("capturemanager")
        capman.start_global_capturing()
        capman.suspend_global_capture()
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and hasattr(reporter, "_session_start"):
            reporter._session_start = timing.Instant()  # the run's duration, not the worker's age
        os.environ["PYTEST_VERSION"] = pytest.__version__
        try:  # the rest of wrap_session, from after pytest_sessionstart
            try:
                config.hook.pytest_collection(session=session)
                config.hook.pytest_runtestloop(session=session)
                if session.testsfailed:
                    session.exitstatus = ExitCode.TESTS_FAILED
                elif session.testscollected == 0:
                    session.exitstatus = ExitCode.NO_TESTS_COLLECTED
            except Failed:
                session.exitstatus = ExitCode.TESTS_FAILED
            except (KeyboardInterrupt, Exit):
                excinfo = ExceptionInfo.from_current()
                status = ExitCode.INTERRUPTED
                if isinstance(excinfo.value, Exit) and excinfo.value.returncode is not None:
                    status = excinfo.value.returncode
                config.hook.pytest_keyboard_interrupt(excinfo=excinfo)
                session.exitstatus = status
            except BaseException:
                session.exitstatus = ExitCode.INTERNAL_ERROR
                excinfo = ExceptionInfo.from_current()
                try:
                    config.notify_exception(excinfo, config.option)
                except Exit as exc:
                    if exc.returncode is not None:
                        session.exitstatus = exc.returncode
        finally:
            os.chdir(session.startpath)
            try:
                config.hook.pytest_sessionfinish(session=session, exitstatus=session.exitstatus)
            except Exit as exc:
                if exc.returncode is not None:
                    session.exitstatus = exc.returncode
            config._ensure_unconfigure()
        return session.exitstatus
