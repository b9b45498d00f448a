"""The images and the one package list they come from (docs/containers.md).

Nothing here needs Docker or Apptainer: the definitions are checked against the list and
against each other, the engines' command lines are built with stand-in binaries, and the
Snakemake rules' containers are read from a dry run with a stand-in `apptainer`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.executor import engines

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "containers"
TXT = ROOT / "envs" / "test-env.txt"
YAML = ROOT / "envs" / "test-env.yaml"

# Upstream's unit-test requirements (KodCode requirements.txt, "# Unit Test"), plus torch from
# their LLM requirements (their test image has it).
UPSTREAM = ["pytest", "pytest-cov", "beautifulsoup4", "fake-useragent", "imageio", "keras", "lxml", "matplotlib",
            "numpy", "opencv-python", "pandas", "pillow", "requests", "rich", "scikit-learn", "sphinx-pyproject",
            "statsmodels", "sympy", "tweepy", "typing-extensions", "xgboost", "flask", "seaborn", "torch"]
# what ours installs instead, same import name (why: envs/test-env.txt, docs/containers.md)
SUBSTITUTES = {"opencv-python": "opencv-python-headless"}


def _requirements():
    spec = importlib.util.spec_from_file_location("kodcode_image_requirements", CONTAINERS / "requirements.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


req = _requirements()


def pip_names() -> set[str]:
    return {req.name_of(r) for r, _ in req.parse(TXT.read_text())}


def conda_names() -> set[str]:
    """PyPI names of the conda list: the `# pip: NAME` comment where conda-forge's differs."""
    out = set()
    deps = YAML.read_text().split("dependencies:", 1)[1].splitlines()
    for line in deps:
        spec, _, comment = line.partition("#")
        spec = spec.strip().lstrip("-").strip()
        if not spec:
            continue
        pip = re.search(r"pip:\s*([A-Za-z0-9_.-]+)", comment)
        name = pip.group(1) if pip else spec
        if req.name_of(name) != "python":
            out.add(req.name_of(name))
    return out


def test_conda_and_pip_lists_name_the_same_packages():
    assert conda_names() == pip_names()


def test_the_list_covers_upstreams_unit_test_requirements():
    names = pip_names()
    missing = [n for n in UPSTREAM if SUBSTITUTES.get(n, n) not in names]
    assert missing == [], f"envs/test-env.txt lacks upstream's {missing}"


def test_variants():
    text = TXT.read_text()
    cpu, cpu_torch = req.select(text, "cpu")
    gpu, gpu_torch = req.select(text, "gpu")
    slim, slim_torch = req.select(text, "slim")
    names = lambda reqs: {req.name_of(r) for r in reqs}  # noqa: E731
    assert cpu_torch.startswith("torch") and gpu_torch == cpu_torch and slim_torch == ""
    assert "xgboost-cpu" in names(cpu) and "xgboost" in names(gpu) and "xgboost-cpu" in names(slim)
    assert "keras" in names(cpu) and "keras" in names(gpu) and "keras" not in names(slim)
    assert names(gpu) - names(slim) == {"keras", "xgboost"}
    # every variant imports what it installs under a known module name
    modules = req.module_of
    assert {modules(r) for r in cpu} >= {"bs4", "cv2", "PIL", "sklearn", "xgboost", "dateutil", "fake_useragent"}
    with pytest.raises(SystemExit, match="unknown image variant"):
        req.select(text, "tpu")
    with pytest.raises(SystemExit, match="line 1: unknown tag"):
        req.parse("numpy  # [arm]\n")


def _dockerfile(path: Path) -> tuple[dict[str, str], dict[str, str], str]:
    """ARG defaults, ENV values and the RUN line of a Dockerfile."""
    text = path.read_text().replace("\\\n", " ")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    env_line = re.search(r"^ENV (.+)$", text, re.M).group(1)
    env = dict(re.findall(r"(\w+)=(\S+)", env_line))
    run = re.search(r"^RUN (.+)$", text, re.M).group(1)
    return args, env, run


def _definition(path: Path) -> tuple[dict[str, str], dict[str, str], str, str]:
    """%arguments, %environment, %post and %files of an Apptainer definition."""
    sections = dict(re.findall(r"^%(\w+)\n(.*?)(?=^%|\Z)", path.read_text(), re.M | re.S))
    args = dict(line.strip().split("=", 1) for line in sections["arguments"].splitlines() if line.strip())
    env = dict(re.findall(r"export (\w+)=(\S+)", sections["environment"]))
    return args, env, sections["post"], sections["files"]


@pytest.mark.parametrize("docker_file, definition, script", [
    ("Dockerfile.test-env", "test-env.def", "install-test-env.sh"),
    ("Dockerfile.vllm", "vllm.def", "install-vllm.sh"),
])
def test_dockerfile_and_definition_cannot_drift(docker_file, definition, script):
    d_args, d_env, d_run = _dockerfile(CONTAINERS / docker_file)
    a_args, a_env, a_post, a_files = _definition(CONTAINERS / definition)
    assert d_args == a_args
    assert d_env == a_env
    # the same build steps, with the same arguments in the same order
    assert f"containers/{script}" in d_run and f"containers/{script}" in a_post
    d_call = re.findall(r'"\$(\w+)"', d_run)
    a_call = re.findall(r'"\{\{ (\w+) \}\}"', a_post)
    assert d_call == a_call and set(d_call) <= set(d_args)
    # the definition copies everything the Dockerfile's context holds (containers/build lays it out)
    copied = {line.split()[0] for line in a_files.splitlines() if line.strip()}
    assert copied == {"containers", "envs", "src", "pyproject.toml", "README.md", "ca", "wheels"}
    build = (CONTAINERS / "build").read_text()
    assert "containers envs src pyproject.toml README.md" in build and '"$ctx/ca" "$ctx/wheels"' in build


def test_images_run_attempts_unprivileged_and_carry_the_worker():
    text = (CONTAINERS / "Dockerfile.test-env").read_text()
    assert text.rstrip().splitlines()[-4] == "USER 65534:65534"
    assert f'"python", "-I", "{engines.IN_IMAGE_DIR}"' in text
    script = (CONTAINERS / "install-test-env.sh").read_text()
    assert f"src/kodcode/executor/worker\" {engines.IN_IMAGE_DIR}" in script
    assert "ARG BASE=" in text and "FROM ${BASE}" in text
    # no secret can ride along: certificates only, nothing from the environment
    build = (CONTAINERS / "build").read_text()
    assert "PRIVATE KEY" in build and "--build-arg" in build and "TOKEN" not in build and "KEY=" not in build


def test_build_script_errors_are_one_line():
    for args, want in ((["bogus"], "first argument must be test-env or vllm"),
                       (["test-env", "--variant", "tpu"], "--variant must be cpu, gpu or slim"),
                       (["test-env", "--engine", "lxc"], "--engine must be docker, podman or apptainer"),
                       (["vllm", "--variant", "gpu"], "--variant applies to test-env only")):
        res = subprocess.run(["bash", str(CONTAINERS / "build"), *args], capture_output=True, text=True)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and want in res.stderr, res.stderr


def _stand_in(folder: Path, name: str, body: str) -> Path:
    exe = folder / name
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(0o755)
    return exe


def test_apptainer_command_line_without_the_binary(tmp_path, monkeypatch):
    """The engine's command, built against a stand-in `apptainer`: everything isolating is
    there, the worker folder is bound read-only where the image expects it, and nothing of
    the caller's environment reaches it."""
    _stand_in(tmp_path, "apptainer", 'echo "apptainer version 1.3.4"')
    sif = tmp_path / "kodcode-test-env-cpu.sif"
    sif.write_bytes(b"SIF")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("KODCODE_FAKE_TOKEN", "s3cret")
    assert engines.resolve("apptainer", str(sif)) == "apptainer"
    spec = engines.build("apptainer", ("numpy",), str(sif))
    argv = spec.argv
    assert argv[0] == str(tmp_path / "apptainer") and argv[1] == "exec"
    for flag in ("--containall", "--cleanenv", "--no-home", "--pid", "--ipc", "--net"):
        assert flag in argv
    assert argv[argv.index("--network") + 1] == "none"
    assert argv[argv.index("--bind") + 1] == f"{engines.WORKER}:{engines.IN_IMAGE_DIR}:ro"
    i = argv.index(str(sif))
    assert argv[i + 1:i + 4] == ["python", "-I", engines.IN_IMAGE_DIR]
    assert "--reap-all" in argv[i:] and argv[argv.index("--preload") + 1] == "numpy"
    assert "KODCODE_FAKE_TOKEN" not in spec.env and "s3cret" not in " ".join(argv)
    assert spec.fingerprint["engine"] == "apptainer" and spec.fingerprint["image"].startswith(sif.name)


def test_docker_command_line_reaches_the_chosen_daemon(tmp_path, monkeypatch):
    _stand_in(tmp_path, "docker", 'echo sha256:0123456789abcdef')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/ci/docker.sock")
    monkeypatch.setenv("KODCODE_FAKE_TOKEN", "s3cret")
    assert engines.resolve("docker", "kodcode-test-env:cpu") == "docker"
    spec = engines.build("docker", (), "kodcode-test-env:cpu")
    # the client gets the daemon's address; the container gets nothing of the caller's
    assert spec.env["DOCKER_HOST"] == "unix:///run/ci/docker.sock" and "KODCODE_FAKE_TOKEN" not in spec.env
    assert "-e" not in spec.argv and "--env" not in spec.argv
    assert spec.argv[spec.argv.index("--network") + 1] == "none" and "--read-only" in spec.argv
    assert spec.argv[spec.argv.index("--user") + 1] == "65534:65534"
    assert spec.fingerprint["image"] == "sha256:0123456789abcdef"


def test_podman_serves_as_docker_when_there_is_no_docker(tmp_path, monkeypatch):
    _stand_in(tmp_path, "podman", "echo sha256:feed")
    monkeypatch.setattr(engines.shutil, "which",
                        lambda name: str(tmp_path / "podman") if name == "podman" else None)
    assert engines.build("docker", (), "kodcode-test-env:cpu").argv[0] == str(tmp_path / "podman")


def test_sdm_apptainer_dry_run_names_each_rules_container(tmp_path):
    """`snakemake --sdm apptainer -n` (Snakemake wants an `apptainer` binary even for a dry
    run: a stand-in answers its version check) names the image of execute and generate."""
    _stand_in(tmp_path, "apptainer", 'echo "apptainer version 1.3.4"')
    env = {**os.environ, "PATH": f"{tmp_path}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for extra, generate in (([], "kodcode-test-env-cpu.sif"), (["--config", "llm={backend: vllm}"], "kodcode-vllm.sif")):
        res = subprocess.run([sys.executable, "-m", "snakemake", "--sdm", "apptainer", "-n", *extra],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        out = res.stdout + res.stderr
        assert res.returncode == 0, out[-2000:]
        assert "rule execute runs in container kodcode-test-env-cpu.sif" in out
        assert "rule execute_online_judge runs in container kodcode-test-env-cpu.sif" in out  # stdin/stdout attempts
        assert f"rule generate runs in container {generate}" in out
