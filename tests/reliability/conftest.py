"""Copies of the workflow for tests that run Snakemake on it (never the checkout itself)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# what a run reads: the package itself comes from the installed (editable) kodcode
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "demo", "profiles", "report", "envs")


def copy_workflow(dest: Path) -> Path:
    for name in WORKFLOW_PARTS:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


@pytest.fixture
def wf(tmp_path: Path) -> Path:
    """A fresh copy per test (tests that change the config or the tree)."""
    return copy_workflow(tmp_path)


@pytest.fixture(scope="module")
def wf_shared(tmp_path_factory) -> Path:
    """One copy for a module's tests (dry runs that change nothing)."""
    return copy_workflow(tmp_path_factory.mktemp("wf"))
