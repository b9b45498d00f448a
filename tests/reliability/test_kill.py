"""kill -9 of the whole workflow mid-run loses nothing: after a rerun the release is byte for
byte that of a run never interrupted (issue 10).

The killed run (two subsets up to the release, without the decontamination index and the
paper figures, to keep the suite short) is started in its own process group and the group is
sent SIGKILL a few seconds in, while jobs (and their sandboxed test workers) are running. The rerun first clears
Snakemake's stale lock (``--unlock``, as Snakemake asks after a killed run); the profile's
``rerun-incomplete`` redoes the jobs the kill cut short.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # two short demo runs and a killed one
ROOT = Path(__file__).resolve().parents[2]
KILL_AFTER_S = 5
RUN = ["--cores", "2", "--config", "subsets=[Prefill,Algorithm]", "decontam={benchmarks: []}", "--",
       "results/release/README.md"]


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ["Snakefile", "rules", "scripts", "config", "demo", "profiles", "report", "envs"]:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def snakemake(wf: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=wf, text=True, capture_output=True,
                          timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def kill_group_after(wf: Path, seconds: float) -> None:
    log = open(wf / "killed_run.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", *RUN], cwd=wf, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group of the run started here, and nothing else
        proc.wait()
    finally:
        log.close()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed; kill it sooner"


def test_kill_9_mid_run_then_rerun_gives_the_same_release(tmp_path):
    killed = copy_workflow(tmp_path / "killed")
    kill_group_after(killed, KILL_AFTER_S)
    assert not (killed / "results" / "release" / "README.md").exists()  # it was cut short
    time.sleep(1)  # let the killed group's last processes go before the rerun
    snakemake(killed, "--unlock")
    snakemake(killed, *RUN)

    clean = copy_workflow(tmp_path / "clean")
    snakemake(clean, *RUN)

    got, want = files(killed / "results" / "release"), files(clean / "results" / "release")
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
