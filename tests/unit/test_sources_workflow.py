"""The shipped configs: every demo source copy goes through the real loaders, the demo's
Leetcode/Algorithm seeds (whose question responses are recorded) keep their texts and order,
and the paper config builds its whole DAG offline on a fresh copy of the workflow."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kodcode.seeds import load_seeds
from kodcode.sources.build import harvest
from kodcode.sources.spec import subset_source
from kodcode.subsets import spec

ROOT = Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
# (kept, dropped) per demo source: each copy has a deliberate bad row or excluded file
EXPECTED = {
    "Leetcode": (9, {"empty question": 1}),
    "Algorithm": (4, {"excluded (__init__.py)": 1}),
    "Codeforces": (2, {"empty question": 1}),
    "Apps": (2, {"empty question": 1}),
    "Taco": (2, {}),
    "Code_Contests": (2, {}),
    "Package": (1, {"empty question": 1, "not in the 2-row sample": 2}),
    "Evol": (2, {"not in the 2-row sample": 1}),
    "Data_Structure": (3, {"excluded (__init__.py)": 2, "excluded (docs/source/conf.py)": 1,
                           "excluded (setup.py)": 1, "excluded (test_*.py)": 1}),
    "Docs": (3, {"shorter than 200 characters": 1}),
    "Filter": (3, {"not Python-related": 2}),
}


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the demo config's paths are relative to the workflow folder


def _demo_harvest(subset, tmp_path):
    src = subset_source(subset, DEMO["sources"][subset])
    return harvest(src, [None] * len(src.parts), DEMO["seed"], str(tmp_path / "hf"))


@pytest.mark.parametrize("subset", sorted(EXPECTED))
def test_demo_source_copy_is_read_by_the_real_loader(subset, tmp_path):
    seeds, report, info = _demo_harvest(subset, tmp_path)
    kept, dropped = EXPECTED[subset]
    assert (report.kept, dict(report.dropped)) == (kept, dropped) and len(seeds) == kept
    assert all(i["verified"] == "local copy (not fetched)" for i in info)


@pytest.mark.parametrize("subset, old", [("Leetcode", "leetcode.jsonl"), ("Algorithm", "algorithm.jsonl")])
def test_demo_seed_texts_and_order_match_the_recorded_responses(subset, old, tmp_path):
    """The archived question responses were recorded for these seeds: same texts, same order."""
    new, _, _ = _demo_harvest(subset, tmp_path)
    before, _ = load_seeds(ROOT / "demo" / "seeds" / old, spec(subset))
    field = spec(subset).seed_field
    assert [s[field] for s in new] == [s[field] for s in before]


@pytest.mark.integration
def test_paper_config_dry_run_builds_the_whole_dag_offline(tmp_path):
    wf = tmp_path / "wf"
    skip = {".git", "results", ".kodcode", "logs", "benchmarks", ".snakemake", ".pytest_cache", "__pycache__"}
    shutil.copytree(ROOT, wf, ignore=lambda d, names: [n for n in names if n in skip or n.endswith(".egg-info")])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    # 2 shards instead of 64: the same DAG shape at a fraction of the jobs; .ci/run dry-runs the
    # paper config exactly as it stands
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "config/paper.yaml",
                           "--config", "shards=2"], cwd=wf, env=env, text=True, capture_output=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    # 9 single-source subsets + 6 documentation trees + 7 MAGPIE sets, 3 benchmarks (HumanEval is
    # a package), 3 Fig. 4 baseline sets (Package-Instruct is the Package subset's cache entry)
    # and the published release; no demo copy leaks in from config.yaml
    assert counts["fetch_source"] == "29" and counts["seeds"] == "11", out[-3000:]
    assert counts["paper_baseline"] == "4" and counts["paper_compare"] == "1", out[-3000:]
    assert counts["tag_requests"] == "1" and counts["select_tagged"] == "1", out[-3000:]
    assert not (wf / ".kodcode").exists()  # a dry run fetches nothing
