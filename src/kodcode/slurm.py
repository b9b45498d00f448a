"""What the workflow adds to Snakemake's SLURM executor plugin.

The plugin submits a job and polls its state; it never asks *why* a job is pending. A job
that asks for more than any node of its partition has (16 CPUs on 8-CPU nodes, say) is
accepted by ``sbatch`` on many clusters and then pends forever with a reason such as
``PartitionConfig``, while Snakemake prints nothing. The :class:`Watchdog` reads those
reasons with ``squeue`` and cancels such a job with a one-line message naming the rule and
what it asked for, so the run stops instead of waiting. Before the first submission,
:func:`check_requests` holds every job's CPUs and memory against the nodes ``sinfo`` lists
(sbatch refuses too much memory with a message Snakemake does not show for job groups), and
:func:`preflight` checks that the chosen status command can see finished jobs at all
(``sacct`` without slurmdbd, or ``squeue`` with a short ``MinJobAge``, would leave the run
waiting on jobs that are long done).
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)

# squeue fields: job id, reason, comment (the plugin writes rule_<name>[_wildcards_<...>]),
# CPUs, memory, time limit, partition, generic resources (GPUs), working folder.
SQUEUE_FORMAT = "%i|%r|%k|%C|%m|%l|%P|%b|%Z"
POLL_S = 5.0
# The plugin's longest pause between two status checks; squeue must remember a finished
# job for longer than that (its MinJobAge) or the run waits on it forever.
PLUGIN_MAX_STATUS_INTERVAL_S = 180

# Pending reasons that no amount of waiting fixes: the request exceeds what the partition,
# the QOS or the account allows, or names something that does not exist.
_NEVER = re.compile(
    r"^(Partition(Config|NodeLimit|TimeLimit)|BadConstraints|Invalid\w*|DependencyNeverSatisfied"
    r"|(QOS|Assoc)Max\w*Per(Job|Node)\w*|QOSMin\w+)$"
)
# Pending reasons that may pass, but that a user wants to hear about once.
_STUCK = re.compile(r"^(ReqNodeNotAvail.*|PartitionDown|PartitionInactive|NodeDown|JobHeldAdmin|JobHeldUser)$")


@dataclass(frozen=True)
class PendingJob:
    """One pending job as squeue reports it."""

    job_id: str
    reason: str
    comment: str
    cpus: str
    memory: str
    time_limit: str
    partition: str
    gres: str
    workdir: str

    @property
    def rule(self) -> str:
        """The rule (or group of rules) the plugin named in the job's comment."""
        m = re.match(r"^rule_(.+?)(?:_wildcards_(.*))?$", self.comment)
        if not m:
            return self.comment or "?"
        name, wildcards = m.group(1), m.group(2)
        return f"{name} ({wildcards})" if wildcards else name

    @property
    def request(self) -> str:
        parts = [f"{self.cpus} CPUs", f"{self.memory} memory", f"time {self.time_limit}"]
        if self.gres and self.gres not in ("(null)", "N/A"):
            parts.append(self.gres)
        return ", ".join(parts) + f" in partition {self.partition}"


def parse_squeue(text: str) -> list[PendingJob]:
    """Rows of ``squeue -h -o SQUEUE_FORMAT``; rows with another shape are skipped."""
    jobs = []
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) == 9:
            jobs.append(PendingJob(*(f.strip() for f in fields)))
    return jobs


def never_starts(reason: str) -> bool:
    return bool(_NEVER.match(reason))


@dataclass(frozen=True)
class RuleRequest:
    """What one Snakemake job asks for, as the DAG knows it."""

    rule: str
    threads: int
    mem_mb: int | None


def _label_of(comment: str, known: dict[str, list[RuleRequest]]) -> str | None:
    """The group id or rule name a job's comment names (group ids may hold underscores)."""
    body = comment[len("rule_"):] if comment.startswith("rule_") else comment
    for label in sorted(known, key=len, reverse=True):
        if body == label or body.startswith(label + "_"):
            return label
    return None


def unschedulable_message(job: PendingJob, known: dict[str, list[RuleRequest]] | None = None) -> str:
    """One line: which job, why it can never start, what it asks for and how to ask for less."""
    known = known or {}
    label = _label_of(job.comment, known)
    requests = known.get(label or "", [])
    rules = sorted({r.rule for r in requests})
    worst = max(requests, key=lambda r: (r.threads, r.mem_mb or 0)) if requests else None
    rule = worst.rule if worst else job.rule.split(" ")[0]
    what = f"group {label} ({', '.join(rules)})" if len(rules) > 1 else f"rule {rule}"
    limit = "" if job.time_limit in ("UNLIMITED", "", "N/A") else f", time {job.time_limit}"
    gres = f", {job.gres}" if job.gres and job.gres not in ("(null)", "N/A") else ""
    cpus = f"{job.cpus} CPU" + ("" if job.cpus == "1" else "s")
    if re.search(r"Time|WallDuration", job.reason):
        fix = ("ask for less time with --default-resources runtime=MINUTES (a job group asks for the sum of its "
               "rules' runtimes) or use a partition with a longer limit: --default-resources slurm_partition=P")
    elif job.reason.startswith("Invalid"):
        fix = ("name an account or QOS this cluster accepts: --default-resources slurm_account=A, "
               "--slurm-qos Q, or a valid --default-resources slurm_partition=P")
    else:
        culprit = (f"most of it for rule {rule} ({worst.threads} threads, {worst.mem_mb} MB); "
                   if worst and len(rules) > 1 else "")
        fix = (f"{culprit}ask for less with --set-threads {rule}=N (memory follows) or "
               f"--set-resources {rule}:mem_mb=M, or use a partition with bigger nodes: "
               f"--default-resources slurm_partition=P")
    return (
        f"SLURM job {job.job_id} for {what} can never start (Reason={job.reason}): it asks for {cpus}, "
        f"{job.memory} memory{limit}{gres} in partition {job.partition}; cancelled. To fix: {fix} (docs/cluster.md)."
    )


class Watchdog(threading.Thread):
    """Polls this user's pending jobs of one working folder; cancels those that can never
    start, reporting each once. A daemon thread: it ends with the Snakemake process."""

    def __init__(self, workdir: str, report: Callable[[str], None], warn: Callable[[str], None],
                 known: dict[str, list[RuleRequest]] | None = None,
                 run: Callable[[list[str]], str] | None = None, poll_s: float = POLL_S):
        super().__init__(name="kodcode-slurm-watchdog", daemon=True)
        self.known = known or {}
        self.workdir = os.path.realpath(workdir)
        self.report, self.warn = report, warn
        self.run_cmd = run or _run
        self.poll_s = poll_s
        self.cancelled: set[str] = set()
        self.warned: set[str] = set()
        self._stop = threading.Event()

    def check_once(self) -> list[PendingJob]:
        """One look at squeue; returns the jobs cancelled in it."""
        out = self.run_cmd(["squeue", "-h", "-u", getpass.getuser(), "-t", "PD", "-o", SQUEUE_FORMAT])
        hopeless = []
        for job in parse_squeue(out):
            if os.path.realpath(job.workdir) != self.workdir or not job.comment.startswith("rule_"):
                continue
            if never_starts(job.reason) and job.job_id not in self.cancelled:
                self.cancelled.add(job.job_id)
                self.report(unschedulable_message(job, self.known))
                self.run_cmd(["scancel", job.job_id])
                hopeless.append(job)
            elif _STUCK.match(job.reason) and job.job_id not in self.warned:
                self.warned.add(job.job_id)
                self.warn(f"SLURM job {job.job_id} for rule {job.rule} is waiting: Reason={job.reason} "
                          f"({job.request}); `scontrol show job {job.job_id}` says more.")
        return hopeless

    def run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.check_once()
            except (OSError, subprocess.SubprocessError) as exc:
                log.debug("squeue failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class Partition:
    """The largest node of one partition, as sinfo reports it."""

    name: str
    cpus: int
    mem_mb: int
    default: bool


SINFO_FORMAT = "%P|%c|%m"


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Rows of ``sinfo -h -o SINFO_FORMAT`` (one per partition and node shape), merged per
    partition; "2+" or "21694+" (mixed node sizes) count as the number shown."""
    parts: dict[str, Partition] = {}
    for line in text.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 3:
            continue
        name, cpus, mem = fields
        default = name.endswith("*")
        name = name.rstrip("*")
        c = int(re.match(r"\d*", cpus).group() or 0)
        m = int(re.match(r"\d*", mem).group() or 0)
        old = parts.get(name)
        if old:
            c, m, default = max(c, old.cpus), max(m, old.mem_mb), default or old.default
        parts[name] = Partition(name, c, m, default)
    return parts


@dataclass(frozen=True)
class JobRequest:
    """What one SLURM-bound Snakemake job asks for."""

    rule: str
    threads: int
    mem_mb: int | None
    partition: str | None  # None: the cluster's default


def check_requests(requests: list[JobRequest], partitions: dict[str, Partition]) -> list[str]:
    """One line per rule whose request no node of its partition can hold: sbatch would refuse
    it (memory) or it would pend forever (CPUs). An empty list when all fit."""
    if not partitions:
        return []
    default = next((p for p in partitions.values() if p.default), None)
    problems: dict[str, str] = {}
    for r in requests:
        if r.rule in problems:
            continue
        part = partitions.get(r.partition) if r.partition else default
        if part is None:
            if r.partition:
                problems[r.rule] = (
                    f"rule {r.rule} asks for partition {r.partition!r}, which this cluster does not have "
                    f"(sinfo lists {', '.join(sorted(partitions))}): fix --set-resources "
                    f"{r.rule}:slurm_partition or --default-resources slurm_partition")
            continue
        if r.threads > part.cpus:
            problems[r.rule] = (
                f"rule {r.rule} asks for {r.threads} CPUs, but the largest node in partition {part.name} has "
                f"{part.cpus}: lower it with --set-threads {r.rule}={part.cpus} (memory follows), or use a "
                f"partition with bigger nodes (docs/cluster.md)")
        elif r.mem_mb and part.mem_mb and r.mem_mb > part.mem_mb:
            problems[r.rule] = (
                f"rule {r.rule} asks for {r.mem_mb} MB of memory, but the largest node in partition {part.name} "
                f"has {part.mem_mb} MB: lower it with --set-resources {r.rule}:mem_mb=M, or use a partition with "
                f"bigger nodes (docs/cluster.md)")
    return list(problems.values())


def sinfo(run: Callable[[list[str]], str] | None = None) -> str:
    return (run or _run)(["sinfo", "-h", "-o", SINFO_FORMAT])


def _run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).stdout


def min_job_age(scontrol_config: str) -> int | None:
    """MinJobAge in seconds from ``scontrol show config`` output."""
    m = re.search(r"^MinJobAge\s*=\s*(\d+)\s*sec", scontrol_config, re.M)
    return int(m.group(1)) if m else None


def preflight(status_command: str | None, run: Callable[[list[str]], str] | None = None) -> str | None:
    """A one-line problem with how job states will be read, or None when they will be seen."""
    run = run or _run_both
    if status_command == "sacct":
        out = run(["sacct", "-n", "-X", "-j", "1"])
        if "accounting storage is disabled" in out.lower():
            return ("this cluster keeps no job accounting (no slurmdbd), so `sacct` cannot report job states "
                    "and the run would wait forever: use --slurm-status-command squeue (profiles/slurm's default)")
    elif status_command == "squeue":
        age = min_job_age(run(["scontrol", "show", "config"]))
        if age is not None and age <= PLUGIN_MAX_STATUS_INTERVAL_S:
            return (f"this cluster's MinJobAge is {age} s: squeue forgets a finished job before Snakemake's next "
                    f"status check (up to {PLUGIN_MAX_STATUS_INTERVAL_S} s apart); use --slurm-status-command sacct "
                    f"where slurmdbd runs, or have MinJobAge raised above {PLUGIN_MAX_STATUS_INTERVAL_S} s")
    return None


def _run_both(argv: list[str]) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return r.stdout + r.stderr
