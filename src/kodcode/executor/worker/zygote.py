"""A second warm process for attempts that use the big packages (numpy, pandas, ...).

Every fork of a process pays for its size: copying its page tables, the copy-on-write
faults of the attempt, tearing it all down at the end. A worker with pandas, scipy,
scikit-learn and matplotlib imported is four to five times the size of one with only
pytest, and most attempts import none of them. So the worker itself stays small, and an
attempt that imports a package of the preload list runs in this process instead: a fork of
the worker that imports each such package the first time an attempt needs it, keeps it,
and runs those attempts exactly as the worker runs the others. Which process ran an
attempt changes only how fast it started.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import sys

from . import frames, linux

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([A-Za-z_][\w. \t,]*))", re.M)


def imported_roots(*sources: str) -> set[str]:
    """Top-level names of the modules ``import``-ed anywhere in ``sources`` (a cheap scan:
    a name found in a string only sends the attempt to the bigger process)."""
    roots = set()
    for text in sources:
        for from_name, names in _IMPORT.findall(text):
            if from_name:
                roots.add(from_name)
            for part in names.split(","):
                name = part.strip().split(" ")[0].split(".")[0]
                if name:
                    roots.add(name)
    return roots


class Zygote:
    """The process for attempts that import one of ``preload``; started when first needed."""

    def __init__(self, preload: list[str], serve_one, worker_fds: tuple[int, ...]):
        self.preload = preload
        self.by_root: dict[str, list[str]] = {}
        for name in preload:
            self.by_root.setdefault(name.split(".")[0], []).append(name)
        self.serve_one = serve_one  # (request, reply fd) -> reply, run in the zygote
        self.worker_fds = worker_fds  # the worker's line to the host: closed in the zygote
        self.pid = 0
        self.to_fd = self.from_fd = -1

    def needs(self, req: dict) -> list[str]:
        """The preload modules this attempt imports (none: it runs in the worker)."""
        roots = imported_roots(req.get("solution", ""), req.get("tests", "")) & set(self.by_root)
        return [name for root in sorted(roots) for name in self.by_root[root]]

    def run(self, req: dict, modules: list[str]) -> dict:
        if not self.pid:
            self._start()
        try:
            frames.send(self.to_fd, {"import": modules, "request": req})
            reply = frames.recv(self.from_fd)
        except OSError:
            reply = None
        if reply is None:
            self.stop()
            return {"internal_error": "the worker's process for attempts with big packages was lost"}
        return reply

    def _start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for fd in (req_w, rep_r, *self.worker_fds):
                    os.close(fd)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)  # the host's request stream is the worker's alone
                os.close(null)
                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
                self._serve(req_r, rep_w)
            except BaseException:  # noqa: BLE001 - the worker sees the pipe close and says so
                code = 1
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(rep_w)
        self.pid, self.to_fd, self.from_fd = pid, req_w, rep_r

    def _serve(self, req_r: int, rep_w: int) -> None:
        tried: set[str] = set()
        while True:
            msg = frames.recv(req_r)
            if msg is None:
                return
            missing = [name for name in msg["import"] if name not in tried]
            for name in missing:  # library code, trusted as the worker's own preload
                tried.add(name)
                try:
                    __import__(name)
                except BaseException as exc:  # noqa: BLE001 - the attempt then fails as it would
                    sys.stderr.write(f"kodcode worker: could not preload {name}: {type(exc).__name__}: {exc}\n")
            if missing:
                gc.collect()
                gc.freeze()
            try:
                reply = self.serve_one(msg["request"], rep_w)
            except Exception as exc:  # noqa: BLE001 - a worker bug must not look like a verdict
                reply = {"internal_error": f"{type(exc).__name__}: {exc}"}
            frames.send(rep_w, reply)

    def stop(self) -> None:
        if not self.pid:
            return
        for fd in (self.to_fd, self.from_fd):
            os.close(fd)
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid, self.to_fd, self.from_fd = 0, -1, -1
