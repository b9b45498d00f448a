"""The stdin/stdout side of an attempt: each case runs ``solution.py`` as ``__main__`` in
its own child process with the case's input on stdin.

Runs in B (PID 1 of the attempt's namespace) or, in plain mode, in the attempt's process;
each case's program is a child C of it. Only inputs enter the sandbox: the host compares
the stdout reported here with the expected output.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

from . import events, linux


def run_stdio(workdir: str, report_fd: int, inputs: list[str], out_cap: int) -> None:
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
                linux.prctl(linux.PR_SET_DUMPABLE, 1)
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
        events.emit(report_fd, {
            "ev": "case", "i": i, "stdout": stdout.decode("utf-8", "replace"), "truncated": truncated,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "duration": round(time.monotonic() - start, 4)})
    statements = statements_of(os.path.join(workdir, "solution.py"))
    events.emit(report_fd, {"ev": "coverage", "statements": len(statements) if statements is not None else None,
                            "missing": len(statements - executed) if statements is not None else None})
    events.emit(report_fd, {"ev": "end", "exitstatus": 0})


def statements_of(path: str) -> set[int] | None:
    """The executable lines of ``path`` as coverage counts them, or None when it does not parse."""
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
