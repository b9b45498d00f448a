"""Check from a Snakemake log that a run really ran on SLURM.

    python .ci/check_slurm_run.py LOG [--jobs N]

Every job of the run is either a local rule (bookkeeping on the submit host) or inside a
SLURM job; every SLURM job the log names was submitted under this run's id and is
COMPLETED in squeue (the CI cluster keeps finished jobs for MinJobAge=600 s). With --jobs,
exactly N SLURM jobs were submitted. Prints one summary line; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

LOCAL_RULES = {"all", "fetch_source", "benchmark_index", "seeds", "question_requests",
               "tag_requests", "sft_label", "pass_at_k", "release_subset", "release_card", "paper_fig2_pass_at_k",
               "paper_fig3_lengths", "paper_fig4_tsne", "paper_fig5_difficulty", "paper_fig6_contamination",
               "paper_fig7_dataflow", "paper_compare", "paper_baseline",
               "paper_fig16_subsets", "paper_readme",
               "export_light_rl", "export_verl", "export_llamafactory", "export_trl"}  # the localrules of rules/*.smk


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    text = open(args.log, encoding="utf-8").read()

    run_id = re.search(r"^SLURM run ID: (\S+)", text, re.M)
    done = re.search(r"^(\d+) of \1 steps \(100%\) done", text, re.M)
    if not run_id or not done:
        print(f"{args.log}: no SLURM run ID or no '100% done' line")
        return 1
    local = re.findall(r"^localrule (\w+):", text, re.M)
    remote = re.findall(r"^rule (\w+):", text, re.M)  # a rule submitted on its own
    grouped = re.findall(r"^    rule (\w+):", text, re.M)  # a rule inside a group job
    groups = re.findall(r"Group job (\S+) \(jobs in", text)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", text)
    errors = []
    if len(local) + len(remote) + len(grouped) != int(done.group(1)):
        errors.append(f"{len(local)} local + {len(remote)} submitted + {len(grouped)} grouped jobs "
                      f"!= {done.group(1)} steps")
    if set(local) - LOCAL_RULES:
        errors.append(f"rules ran on the submit host that are not local rules: {sorted(set(local) - LOCAL_RULES)}")
    if len(submitted) != len(remote) + len(groups):
        errors.append(f"{len(submitted)} SLURM submissions for {len(remote)} rules + {len(groups)} groups")
    if args.jobs is not None and len(submitted) != args.jobs:
        errors.append(f"{len(submitted)} SLURM jobs submitted, expected {args.jobs}")
    out = subprocess.run(["squeue", "-h", "-t", "all", "--name", run_id.group(1), "-o", "%i|%T"],
                         capture_output=True, text=True, check=False).stdout
    states = dict(line.split("|", 1) for line in out.split())
    for job_id in submitted:
        if states.get(job_id) != "COMPLETED":
            errors.append(f"SLURM job {job_id}: state {states.get(job_id, 'unknown to squeue')}")
    if errors:
        print("SLURM check failed: " + "; ".join(errors))
        return 1
    print(f"SLURM check: {done.group(1)} steps = {len(local)} local + {len(grouped) + len(remote)} in "
          f"{len(submitted)} SLURM jobs, all COMPLETED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
