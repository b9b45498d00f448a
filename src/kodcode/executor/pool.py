"""Host side of the warm worker pool: start workers, hand them attempts, survive their death.

Each worker is one sandboxed, long-lived Python (the ``worker`` folder, run as
``python -I <folder>``) that forks once per attempt; ``WorkerHandle`` is the host's end of
one, ``WorkerPool`` a set of them. The host never trusts a worker's verdict: workers only
forward the raw test report, exit status and output of an attempt, and ``verdict.py``
decides here.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import time
from typing import Callable, Sequence

from . import engines
from .worker import frames

log = logging.getLogger(__name__)

# The packages generated code uses most (envs/test-env.yaml): a worker's zygote imports each
# the first time an attempt imports it and keeps it for later ones (worker/zygote.py). A
# missing one is skipped; the attempt then fails as it would.
DEFAULT_PRELOAD = ("numpy", "pandas", "scipy", "sympy", "networkx", "matplotlib.pyplot", "sortedcontainers",
                   "requests", "bs4", "seaborn", "sklearn", "flask")
START_TIMEOUT_S = 300.0  # a cold start imports pytest and runs the warm-up sessions
# beyond the attempt's own wall limit, before a worker counts as hung: the first attempt that
# imports a big package waits for its zygote to import it, which on a cold network file
# system can take a minute
GRACE_S = 120.0


class WorkerLost(RuntimeError):
    pass


class _Spawner:
    """Starts worker processes from one long-lived thread.

    bwrap's --die-with-parent (and the worker's own parent-death signal) fire when the
    *thread* that started the process ends, so workers must not be started from the
    short-lived threads that serve a batch.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _loop(self) -> None:
        while True:
            args, kwargs, box, done = self._jobs.get()
            try:
                box.append(subprocess.Popen(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append(exc)
            done.set()

    def popen(self, *args, **kwargs) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="kodcode-worker-spawner", daemon=True)
                self._thread.start()
        box: list = []
        done = threading.Event()
        self._jobs.put((args, kwargs, box, done))
        done.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]


_SPAWNER = _Spawner()


class WorkerHandle:
    """The host's end of one worker process: start it, check its hello, send requests."""

    def __init__(self, spec: engines.EngineSpec, index: int):
        self.spec = spec
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.hello: dict = {}
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._buf = b""

    def start(self) -> None:
        self.proc = _SPAWNER.popen(self.spec.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=self.spec.env, start_new_session=True, cwd="/")
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        self._buf = b""
        try:
            hello = self._recv(time.monotonic() + START_TIMEOUT_S)
        except WorkerLost as exc:
            self.kill()
            raise engines.EngineUnavailable(
                f"executor worker ({self.spec.name}) did not start: {exc}; its stderr ended with:\n"
                + "\n".join(self.stderr_tail)) from exc
        # a refusal from an older worker may carry no number: then its own reason is the news
        mismatch = frames.check_protocol(hello, f"executor worker ({self.spec.name})")
        if mismatch and (hello.get("hello") or "protocol" in hello):
            self.kill()
            raise engines.EngineUnavailable(mismatch)
        if not hello.get("hello"):
            self.kill()
            raise engines.EngineUnavailable(f"executor worker ({self.spec.name}) refused to start: {hello.get('error')}")
        if self.spec.require_ns and hello.get("mode") != "ns":
            self.kill()
            raise engines.EngineUnavailable(f"{self.spec.name}: per-attempt namespaces unavailable: {hello.get('ns_error')}")
        if hello.get("mode") == "plain" and self.spec.name != "none":
            log.warning("%s worker %d: nested namespaces unavailable (%s); attempts in one worker are separated by "
                        "process groups, private folders and clean-up only", self.spec.name, self.index,
                        hello.get("ns_error"))
        if hello.get("preload_failed"):
            log.info("worker %d could not preload: %s", self.index, ", ".join(hello["preload_failed"]))
        self.hello = hello

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        for line in iter(proc.stderr.readline, b""):
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def _recv(self, deadline: float) -> dict:
        assert self.proc is not None
        fd = self.proc.stdout.fileno()
        while True:
            reply, self._buf = frames.split(self._buf)
            if reply is not None:
                return reply
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost("no answer in time")
            ready, _, _ = select.select([fd], [], [], min(left, 5.0))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerLost(f"worker exited (status {self.proc.poll()})")
                self._buf += chunk

    def request(self, req: dict, timeout_s: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write(frames.encode(req))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise WorkerLost(f"worker gone before the attempt: {exc}") from exc
        try:
            return self._recv(time.monotonic() + timeout_s + GRACE_S)
        except WorkerLost:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(frames.encode({"op": "quit"}))
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


class WorkerPool:
    """``workers`` warm workers of one engine; ``run`` executes requests in parallel."""

    def __init__(self, engine: str = "auto", workers: int = 2, preload: Sequence[str] = DEFAULT_PRELOAD,
                 image: str | None = None, light_warm_up: bool = False):
        self.spec = engines.build(engine, tuple(preload), image, light_warm_up=light_warm_up)
        if self.spec.name == "none":
            log.warning("EXECUTOR ENGINE 'none': generated code runs WITHOUT a sandbox (resource limits, a private "
                        "folder and a process group only). It can read your files, use the network and leave "
                        "processes behind. Use engine 'bwrap' (bundled with the install) for untrusted code.")
        self.engine = self.spec.name
        self.workers = [WorkerHandle(self.spec, i) for i in range(max(1, workers))]
        self._lock = threading.Lock()
        self.started_s = 0.0
        self._start_all()

    def _start_all(self) -> None:
        t0 = time.monotonic()
        errors: list[BaseException] = []

        def start(w: WorkerHandle) -> None:
            try:
                w.start()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(w,)) for w in self.workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.close()
            raise errors[0]
        self.started_s = time.monotonic() - t0

    @property
    def hello(self) -> dict:
        return self.workers[0].hello

    def run(self, requests: Sequence[dict], timeouts: Sequence[float],
            on_result: Callable[[int, dict], None] | None = None) -> list[dict]:
        """Run every request; a reply is the worker's dict or ``{"lost": reason}``.

        ``on_result(i, reply)`` is called from the serving threads as each reply arrives; if
        it raises, no further request is started (those running finish) and ``run`` re-raises.
        """
        with self._lock:
            todo: queue.Queue[int] = queue.Queue()
            for i in range(len(requests)):
                todo.put(i)
            results: list[dict | None] = [None] * len(requests)
            stop = threading.Event()  # set when on_result fails: hand out no more requests
            errors: list[BaseException] = []

            def serve(w: WorkerHandle) -> None:
                while not stop.is_set():
                    try:
                        i = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        res = w.request(requests[i], timeouts[i])
                    except WorkerLost as exc:
                        res = {"lost": str(exc), "stderr": "\n".join(list(w.stderr_tail)[-5:])}
                    except engines.EngineUnavailable as exc:
                        res = {"lost": f"worker could not be restarted: {exc}"}
                    results[i] = res
                    if on_result is not None:
                        try:
                            on_result(i, res)
                        except BaseException as exc:  # noqa: BLE001 - re-raised after the join
                            errors.append(exc)
                            stop.set()
                            return

            threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in self.workers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            return [r if r is not None else {"lost": "not run"} for r in results]

    def alive(self) -> list[bool]:
        return [w.proc is not None and w.proc.poll() is None for w in self.workers]

    def close(self) -> None:
        for w in self.workers:
            w.close()
        if self.spec.scratch:
            shutil.rmtree(self.spec.scratch, ignore_errors=True)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
