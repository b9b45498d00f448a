"""The data-flow table reads the stats sidecar of every job of every subset, and nothing else.

rules/common.smk derives that list from the rules' ``stats`` outputs (kodcode.snake.
stats_sidecars) rather than keeping a second, hand-written one; these dry runs check it
against the jobs Snakemake plans: with two shards, with decontamination off (its rules and
sidecars gone), and for subsets that skip a step (Prefill has no seeds, Filter tags instead of
generating).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.subsets import SUBSETS




def planned_jobs(wf_shared: Path, *config: str) -> list[dict[str, object]]:
    """Each job of a dry run to the data-flow table: its rule, inputs and outputs."""
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--config", *config, "--",
                           "results/release/dataflow.tsv"], cwd=wf_shared, text=True, capture_output=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    jobs: list[dict[str, object]] = []
    for line in proc.stdout.splitlines():
        if m := re.match(r"\s*(?:local)?rule (\w+):$", line):
            jobs.append({"rule": m.group(1), "input": [], "output": []})
        elif jobs and (m := re.match(r"\s+(input|output): (.*)", line)):
            jobs[-1][m.group(1)] = m.group(2).split(", ")
    return jobs


def sidecars(jobs, subsets):
    made = {f for j in jobs for f in j["output"] if f.endswith(".stats.json")}
    return {f for f in made if f.split("/")[1] in subsets}


@pytest.mark.parametrize("config, subsets", [
    (["shards=2"], None),  # every subset of the demo config
    (["shards=2", "subsets=[Prefill,Filter,Leetcode]", "decontam={benchmarks: []}"], ["Prefill", "Filter", "Leetcode"]),
])
def test_the_data_flow_table_reads_every_sidecar_the_subsets_jobs_write(wf_shared, config, subsets):
    jobs = planned_jobs(wf_shared, *config)
    (card,) = [j for j in jobs if j["rule"] == "release_card"]
    names = subsets or list(SUBSETS)  # the demo config runs all twelve
    read = {f for f in card["input"] if f.endswith(".stats.json")}
    # a sidecar read but not made would be a job of its own, planned only for the table: the
    # checks below name the ones that must not exist
    assert read == sidecars(jobs, names) and {f.split("/")[1] for f in read} == set(names)
    per_shard = {f for f in read if re.search(r"_00[01]\.stats\.json$", f)}
    assert per_shard and all(f.replace("_000.", "_001.") in read for f in per_shard if "_000." in f)
    if subsets:
        assert not any("/decontam/" in f for f in read) and "results/Prefill/seeds.stats.json" not in read
        assert "results/Filter/tags/requests.stats.json" in read and not any("Filter/questions/responses" in f for f in read)
        assert "results/Leetcode/questions/responses_001.stats.json" in read
    else:
        assert "results/Algorithm/decontam/report.stats.json" in read
