"""The worker's side of a running attempt: collect its report and output, enforce the wall
limit, and describe how it ended. The verdict is decided on the host, from this reply.
"""

from __future__ import annotations

import os
import select
import signal
import time
from typing import Callable

REPORT_CAP = 8 * 1024 * 1024  # a report larger than this is treated as corrupt


class Excerpt:
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


def quietly(fn: Callable[[], None]) -> None:
    """Run a kill that may find its target gone."""
    try:
        fn()
    except (ProcessLookupError, PermissionError):
        pass


def kill_attempt(pid: int, mode: str) -> None:
    if mode == "ns":  # PID 1 of the attempt's namespace: the kernel kills the rest
        quietly(lambda: os.kill(pid, signal.SIGKILL))
    else:
        quietly(lambda: os.killpg(pid, signal.SIGKILL))


def reap_all_others() -> None:
    """Plain mode inside a container's own PID namespace: kill every other process."""
    keep = {os.getpid(), 1, os.getppid()}
    for _ in range(20):
        victims = [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in keep]
        if not victims:
            return
        for pid in victims:
            quietly(lambda: os.kill(pid, signal.SIGKILL))
        for pid in victims:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)


def _decode_status(status: int | None) -> dict | None:
    if status:
        if os.WIFEXITED(status):
            return {"exited": os.WEXITSTATUS(status)}
        if os.WIFSIGNALED(status):
            return {"signaled": os.WTERMSIG(status)}
        return None
    return {"exited": 0} if status == 0 else None


def supervise(pid: int, out_r: int, rep_r: int, st_r: int, start: float, limits: dict, mode: str) -> dict:
    """Read the attempt's output, report and (ns mode) exit-status pipes until it ends or
    its wall limit passes; returns the reply for the host. Closes the three pipes."""
    excerpt = Excerpt(max(1, int(limits.get("max_output_kb", 64))) * 1024)
    report = bytearray()
    report_overflow = timed_out = False
    status = None
    deadline = start + float(limits.get("timeout_s", 30.0))
    kill_deadline = None
    try:
        exit_fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        exit_fd = None  # older kernel: poll waitpid instead
    watched = {out_r, rep_r, st_r} | ({exit_fd} if exit_fd is not None else set())
    st_buf = bytearray()

    def pump(ready: list[int]) -> None:
        """Read what is ready; an empty read means that writer is gone."""
        nonlocal report_overflow
        for fd in ready:
            if fd == exit_fd:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                watched.discard(fd)
            elif fd == out_r:
                excerpt.add(chunk)
            elif fd == st_r:
                st_buf.extend(chunk[:256])
            elif len(report) + len(chunk) <= REPORT_CAP:
                report.extend(chunk)
            else:
                report_overflow = True

    while status is None:
        now = time.monotonic()
        if not timed_out and now >= deadline:
            timed_out = True
            kill_attempt(pid, mode)
            kill_deadline = now + 10.0
        if kill_deadline is not None and now >= kill_deadline:
            break
        limit = (deadline if not timed_out else kill_deadline) - now
        ready, _, _ = select.select(list(watched), [], [], max(0.0, min(limit, 1.0 if exit_fd is not None else 0.02)))
        pump(ready)
        if exit_fd is None or exit_fd in ready:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
    duration = time.monotonic() - start
    if exit_fd is not None:
        os.close(exit_fd)
        watched.discard(exit_fd)
    if mode == "plain":
        quietly(lambda: os.killpg(pid, signal.SIGKILL))
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
    return {
        "report": bytes(report).decode("utf-8", "replace"),
        "report_overflow": report_overflow,
        "status": _decode_status(status),
        "timed_out": timed_out,
        "duration": round(duration, 4),
        "output": excerpt.text(),
        "output_bytes": excerpt.total,
        "mode": mode,
    }
