"""The minimal engine: a fresh, resource-limited Python per attempt in a private temp folder.

This is the baseline that the hardened engines (issue #3) replace; it already gives each
attempt a clean environment, its own folder and process group, rlimits and a hard kill.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .base import Attempt, ExecResult, Limits

RUNNER = Path(__file__).with_name("runner.py")


def _clean_env(home: str) -> dict[str, str]:
    # Nothing inherited: no API keys, tokens or proxies reach generated code.
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def _limit(limits: Limits):
    def apply() -> None:
        mem = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        fsize = limits.max_file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        cpu = int(limits.timeout_s) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_one(attempt: Attempt, limits: Limits) -> ExecResult:
    workdir = tempfile.mkdtemp(prefix="kodcode-attempt-")
    try:
        Path(workdir, "solution.py").write_text(attempt.solution, encoding="utf-8")
        Path(workdir, "test_solution.py").write_text(attempt.tests, encoding="utf-8")
        read_fd, write_fd = os.pipe()
        os.set_inheritable(write_fd, True)
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", str(RUNNER), str(write_fd)],
            cwd=workdir,
            env=_clean_env(workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,
            preexec_fn=_limit(limits),
        )
        os.close(write_fd)
        timed_out = False
        try:
            out, _ = proc.communicate(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            out, _ = proc.communicate()
        _kill_group(proc.pid)  # daemons left behind by the attempt
        duration = time.monotonic() - start
        with os.fdopen(read_fd, "rb") as fh:
            raw = fh.read()
        text = out.decode("utf-8", "replace")[-limits.max_output_kb * 1024 :]
        return _verdict(raw, proc.returncode, timed_out, duration, text)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _verdict(raw: bytes, returncode: int, timed_out: bool, duration: float, output: str) -> ExecResult:
    base = dict(duration_s=round(duration, 3), output=output[-4000:], engine="local")
    if timed_out:
        return ExecResult(verdict="timeout", reason="wall time limit", **base)
    try:
        report = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        report = None
    if report is None:
        reason = f"no test report (exit code {returncode})"
        return ExecResult(verdict="crash" if returncode and returncode < 0 else "error", reason=reason, **base)
    res = ExecResult(
        verdict="fail",
        collected=int(report.get("collected", 0)),
        passed=list(report.get("passed", [])),
        failed=list(report.get("failed", [])),
        skipped=list(report.get("skipped", [])),
        coverage=report.get("coverage"),
        **base,
    )
    if res.collected == 0:
        res.verdict, res.reason = "error", "no tests collected"
    elif res.failed or res.skipped or len(res.passed) != res.collected:
        res.reason = f"{len(res.passed)}/{res.collected} passed"
    else:
        res.verdict = "pass"
    return res
