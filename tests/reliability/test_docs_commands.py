"""Every ``snakemake`` command line in a code block of README.md and docs/*.md, dry-run.

Each runs with ``-n`` added, offline, in a scratch copy of the workflow, and must parse its
config and build the DAG. Skipped, with the reason shown by pytest:

* ``--profile profiles/slurm``: submits through the SLURM executor plugin (an optional extra)
  to ``sbatch``; it needs a cluster (docs/cluster.md);
* ``--report``: reports on a finished run; there is no DAG of new jobs to dry-run;
* ``--lint``: checks the rules; nothing to dry-run (and it runs in CI as it is).

Commands that differ only in ``--cores`` build the same DAG, so it is built once for them.
Commands with ``--configfile config/paper.yaml`` get ``shards=2`` added to their ``--config``:
the 64-shard DAG takes half a minute per command, and `.ci/run` dry-runs it exactly once.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # the paper config's dry runs take a minute or more
ROOT = Path(__file__).resolve().parents[2]
SKIP = {
    "--profile": "needs a SLURM cluster: the profile submits through the slurm executor plugin (docs/cluster.md)",
    "--report": "reports on a finished run: no DAG of new jobs to dry-run",
    "--lint": "checks the rules: nothing to dry-run",
}


@dataclass(frozen=True)
class Command:
    where: str  # README.md:56
    argv: tuple[str, ...]

    @property
    def dag_key(self) -> tuple[str, ...]:
        """The arguments that shape the DAG: all but -n, --cores and its value."""
        out, skip = [], False
        for arg in self.argv[1:]:
            if skip or arg == "--cores":
                skip = not skip
            elif arg not in ("-n", "--dry-run"):
                out.append(arg)
        return tuple(out)


def documented_commands() -> list[Command]:
    """``snakemake`` lines in fenced code blocks, continuation lines joined, comments dropped."""
    found = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        lines = md.read_text(encoding="utf-8").splitlines()
        in_block, i = False, 0
        while i < len(lines):
            text = lines[i].strip()
            if text.startswith("```"):
                in_block = not in_block
            elif in_block and text.startswith("snakemake "):
                start = i
                while text.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    text = text[:-1] + " " + lines[i].strip()
                found.append(Command(f"{md.relative_to(ROOT)}:{start + 1}", tuple(shlex.split(text, comments=True))))
            i += 1
    return found


COMMANDS = documented_commands()


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    wf = tmp_path_factory.mktemp("docs_wf")
    for name in ["Snakefile", "rules", "scripts", "config", "demo", "profiles", "report", "envs"]:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wf / name)
    # `--sdm apptainer` wants an apptainer binary even for a dry run: a stand-in answers its version
    # check (nothing runs in a container in a dry run; tests/unit/test_containers.py does the same)
    stand_in = tmp_path_factory.mktemp("bin")
    (stand_in / "apptainer").write_text('#!/bin/sh\necho "apptainer version 1.3.4"\n')
    (stand_in / "apptainer").chmod(0o755)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "PATH": f"{stand_in}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done: dict[tuple[str, ...], tuple[int, str]] = {}

    def run(cmd: Command) -> tuple[int, str]:
        if cmd.dag_key not in done:
            args = [a for a in cmd.argv[1:] if a not in ("-n", "--dry-run")]  # -n goes first: --config takes many
            if "config/paper.yaml" in args:  # a smaller DAG of the same config (module docstring)
                args = (args[:args.index("--config") + 1] + ["shards=2"] + args[args.index("--config") + 1:]
                        if "--config" in args else args + ["--config", "shards=2"])
            proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", *args], cwd=wf, env=env, text=True,
                                  capture_output=True, timeout=900)
            done[cmd.dag_key] = proc.returncode, proc.stdout + proc.stderr
        return done[cmd.dag_key]

    return run


def test_the_documented_commands_are_found():
    wheres = {c.where.split(":")[0] for c in COMMANDS}
    assert {"README.md", "docs/llm.md", "docs/cluster.md"} <= wheres
    assert any("--config" in c.argv and "--resources" in c.argv for c in COMMANDS)


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.where for c in COMMANDS])
def test_documented_command_builds_its_dag(cmd, dry_run):
    for flag, why in SKIP.items():
        if flag in cmd.argv:
            pytest.skip(f"{shlex.join(cmd.argv)}: {why}")
    rc, out = dry_run(cmd)
    assert rc == 0, f"{cmd.where}: {shlex.join(cmd.argv)} -n failed:\n{out[-3000:]}"
    assert "This was a dry-run" in out or "Nothing to be done" in out, out[-2000:]
