"""The worker's life: start up, say hello, then serve one request per frame until told to quit.

Start-up: drop root if asked (attempts never run as uid 0, for which the kernel ignores
RLIMIT_NPROC), import pytest, coverage and common standard-library modules, probe whether
per-attempt namespaces work, warm up (``warmup.py``), set up the pytest session every
attempt shares (``pytest_session.py``), ``gc.freeze()``, mark itself non-dumpable, and
send the hello with ``frames.PROTOCOL``. The preload list (numpy, pandas, ...) is imported
by the zygote (``zygote.py``), as attempts need it. Requests come on fd 0; replies go to
the descriptor that was fd 1 at start (fd 1 and 2 then both go to stderr, so stray prints
cannot corrupt the stream).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import signal
import sys
import tempfile

from . import frames, isolation, linux
from .attempt import AttemptRunner
from .environment import CLEAN_ENV
from .warmup import template_works, warm_up
from .zygote import Zygote

STDLIB_PRELOAD = (
    "collections", "typing", "math", "re", "heapq", "itertools", "functools", "bisect", "string",
    "random", "json", "datetime", "decimal", "fractions", "dataclasses", "enum", "io", "contextlib",
    "copy", "operator", "statistics", "textwrap", "unittest", "unittest.mock", "xml.etree.ElementTree",
    "csv", "array", "queue", "threading", "subprocess", "hashlib", "struct", "uuid", "pathlib",
    "tempfile", "runpy", "doctest",
)


def _arguments(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -I <worker folder>")
    ap.add_argument("--mode", choices=["ns", "plain", "auto"], default="auto")
    ap.add_argument("--preload", default="")
    ap.add_argument("--drop-uid", type=int, default=None)
    ap.add_argument("--drop-gid", type=int, default=None)
    ap.add_argument("--base", default=None, help="plain mode: folder for per-attempt folders")
    ap.add_argument("--reap-all", action="store_true", help="plain mode in a container: kill leftovers")
    ap.add_argument("--warm-up", choices=["full", "light"], default="full",
                    help="light: one warm-up attempt instead of all (small batches)")
    ap.add_argument("--no-shared-session", action="store_true",
                    help="run pytest.main per attempt instead of the session set up once (for comparison)")
    return ap.parse_args(argv)


def preload_modules(names: list[str] | tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    loaded, failed = [], {}
    for name in names:
        try:
            __import__(name)
            loaded.append(name)
        except BaseException as exc:  # noqa: BLE001 - a broken optional package must not stop the worker
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    return loaded, failed


def _missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name.split(".")[0]) is None  # the root only: nothing is imported
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return True


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints from imports go to stderr, never into the reply stream
    os.set_inheritable(reply_fd, False)

    if os.getuid() == 0 and args.drop_uid is not None:
        gid = args.drop_gid if args.drop_gid is not None else args.drop_uid
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(args.drop_uid, args.drop_uid, args.drop_uid)
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.environ.update(CLEAN_ENV)
    sys.dont_write_bytecode = True

    base = args.base or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    os.environ.setdefault("HOME", base)
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(base, "mpl"))
    loaded, failed = preload_modules(("pytest", "coverage", *STDLIB_PRELOAD))
    heavy = [p for p in args.preload.split(",") if p]
    for name in heavy:  # imported by the zygote, when an attempt first needs one
        if _missing(name):
            failed[name] = "ModuleNotFoundError: not installed"
    mode, ns_error = args.mode, None
    if mode in ("ns", "auto"):
        ns_error = isolation.probe_namespaces()
        if ns_error is None:
            mode = "ns"
        elif mode == "ns":
            frames.send(reply_fd, {"hello": False, "protocol": frames.PROTOCOL,
                                   "error": f"per-attempt namespaces unavailable: {ns_error}"})
            return 2
        else:
            mode = "plain"
    runner = AttemptRunner(mode, base, reap_all=args.reap_all)
    warm = warm_up(base, runner.pattern, 1 if args.warm_up == "light" else None)
    warm["shared_session"] = "off" if args.no_shared_session else (runner.prepare(template_works) or "yes")
    zygote = Zygote([p for p in heavy if p not in failed], runner.run, (reply_fd,))

    import coverage
    import pytest

    if linux.thread_count() > 1:
        sys.stderr.write("kodcode worker: a preloaded module started a thread; attempts fork the slower, "
                         "thread-safe way\n")
    gc.collect()
    gc.freeze()
    linux.prctl(linux.PR_SET_DUMPABLE, 0)  # attempts (same uid) cannot ptrace us or read /proc/<worker>/mem
    frames.send(reply_fd, {
        "hello": True, "protocol": frames.PROTOCOL, "mode": mode, "ns_error": ns_error, "pid": os.getpid(),
        "uid": os.getuid(), "python": sys.version.split()[0], "pytest": pytest.__version__,
        "coverage": coverage.__version__, "threads": linux.thread_count(), "preloaded": loaded,
        "preload_failed": failed, "preload_lazy": zygote.preload, "warmup": warm,
    })
    while True:
        req = frames.recv(0)
        if req is None or req.get("op") == "quit":
            zygote.stop()
            return 0
        try:
            modules = zygote.needs(req)
            res = zygote.run(req, modules) if modules else runner.run(req, reply_fd)
        except Exception as exc:  # noqa: BLE001 - a worker bug must not look like a verdict
            res = {"internal_error": f"{type(exc).__name__}: {exc}"}
        res["id"] = req.get("id")
        frames.send(reply_fd, res)
