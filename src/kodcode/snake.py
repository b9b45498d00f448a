"""What every rule script does first (send stderr and logging to the rule's log file), and the
Snakefile's hooks and helpers that need Snakemake's own objects."""

from __future__ import annotations

import contextlib
import logging
import sys
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence


@contextlib.contextmanager
def log_to(path: str) -> Iterator[None]:
    with open(path, "w", encoding="utf-8") as fh:
        old = sys.stderr
        sys.stderr = fh
        root = logging.getLogger()
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        except Exception:
            logging.getLogger("kodcode").exception("rule failed")
            raise
        finally:
            root.removeHandler(handler)
            sys.stderr = old


@contextlib.contextmanager
def one_line_exit(*errors: type[BaseException]) -> Iterator[None]:
    """In a rule script: end the job on one of ``errors`` with its message as one line, in the
    rule's log and on the console (``sys.__stderr__``: ``log_to`` has taken ``sys.stderr``),
    and exit status 1: the user sees what to fix, not a traceback."""
    try:
        yield
    except errors as exc:
        logging.getLogger("kodcode").error("%s", exc)
        print(f"ERROR: {exc}", file=sys.__stderr__, flush=True)
        raise SystemExit(1) from None


def visible_gpus() -> int:
    """GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists."""
    import os
    import shutil
    import subprocess

    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return len([d for d in env.split(",") if d.strip() and d.strip() != "-1"])
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def on_start(workflow) -> None:
    """The Snakefile's ``onstart:`` (main process, after the DAG is built, before any job).

    Local runs: unless ``--resources gpu=N`` was given, as many vLLM jobs run at once as
    there are GPUs (at least one), so two engines never share a card. SLURM runs: the status
    command and every job's request are checked against the cluster before anything is
    submitted, and the pending-job watchdog starts (kodcode.slurm).
    """
    import os

    from snakemake.logging import logger

    from kodcode import slurm
    from kodcode.config import stop

    if workflow.local_exec:
        if "gpu" not in workflow.global_resources:
            workflow.register_resource("gpu", max(1, visible_gpus()))
        return
    plugin = workflow.executor_plugin
    if plugin is None or plugin.cli_prefix != "slurm":
        return
    problem = slurm.preflight(getattr(workflow.executor_settings, "status_command", None))
    if problem:
        stop([problem])
    requests, known = [], {}
    for job in workflow.dag.needrun_jobs():
        if job.is_local:
            continue
        res = job.resources
        mem = res.get("mem_mb")
        mem = mem if isinstance(mem, int) else None
        cpus = res.get("cpus_per_task") if isinstance(res.get("cpus_per_task"), int) else job.threads
        partition = res.get("slurm_partition")
        requests.append(slurm.JobRequest(job.rule.name, cpus, mem, partition if isinstance(partition, str) else None))
        known.setdefault(job.group or job.rule.name, []).append(slurm.RuleRequest(job.rule.name, cpus, mem))
    problems = slurm.check_requests(requests, slurm.parse_sinfo(slurm.sinfo()))
    if problems:
        stop(problems)
    slurm.Watchdog(os.getcwd(), report=logger.error, warn=logger.warning, known=known).start()


REPORT_HINT = "Report: snakemake --report report.zip (with this run's --configfile/--config)"


def success_lines(root: str | Path = ".") -> list[str]:
    """Where a finished run's main outputs are, relative to the working directory ``root``:
    only paths that exist, so a run of a few targets names just what it made."""
    root = Path(root)

    def found(entries: tuple[tuple[str, str], ...], sep: str) -> str:
        texts = [text for text, path in entries if (root / path).exists()]
        return f" ({sep.join(texts)})" if texts else ""

    lines = []
    if (root / "results/release").is_dir():
        lines.append("Release: results/release/" + found(
            (("card: results/release/README.md", "results/release/README.md"),
             ("data flow: results/release/dataflow.tsv", "results/release/dataflow.tsv")), ", "))
    if (root / "results/exports").is_dir():
        lines.append("Training exports: results/exports/ (" + ", ".join(
            sorted(p.name for p in (root / "results/exports").iterdir() if p.is_dir())) + ")")
    if (root / "results/paper").is_dir():
        lines.append("Paper figures: results/paper/" + found(
            (("README.md", "results/paper/README.md"),
             ("beside the published release: compare.tsv", "results/paper/compare.tsv")), "; "))
    return lines + [REPORT_HINT] if lines else []


def on_success(workflow) -> None:
    """The Snakefile's ``onsuccess:``: say where the release, its card and data flow, the paper
    figures and the report are (Snakemake runs it in the workflow's working directory)."""
    from snakemake.logging import logger

    for line in success_lines(Path.cwd()):
        logger.info(line)


def stats_sidecars(rules: Iterable[Any], values: Mapping[str, Sequence[str]],
                   fan_out: Mapping[str, Sequence[str]]) -> list[str]:
    """The ``stats`` output of every job that the wildcard ``values`` and ``fan_out`` give, for
    the data-flow table: for each rule (Snakemake's ``workflow.rules``) with a ``stats`` output
    whose wildcards all have values, each combination the rule accepts (its wildcard
    constraints) whose plain-path inputs some rule makes. The input check keeps rule
    ``generate`` to the stages a subset has: it accepts ``tags/requests`` of any subset, but only
    Filter's are made. ``fan_out`` wildcards (the shards) never change which rules apply: the
    check runs with their first value and the files are listed for all of them."""
    from snakemake.io import apply_wildcards, is_callable

    rules = list(rules)
    first = {name: vals[:1] for name, vals in fan_out.items()}
    known = {**values, **first}

    @cache
    def made(path: str) -> bool:
        return any(r.is_producer(path) for r in rules)

    out: list[str] = []
    for rule in rules:
        stats = rule.output.get("stats")
        names = sorted(rule.wildcard_names)
        if stats is None or not names or any(n not in known for n in names):
            continue
        for combo in product(*(known[n] for n in names)):
            wc = dict(zip(names, combo))
            inputs = [apply_wildcards(str(f), wc) for f in rule.input if not is_callable(f)]
            if not rule.is_producer(apply_wildcards(str(stats), wc)) or not all(made(f) for f in inputs):
                continue
            spread = [n for n in names if n in fan_out]
            for more in product(*(fan_out[n] for n in spread)):
                out.append(apply_wildcards(str(stats), {**wc, **dict(zip(spread, more))}))
    return list(dict.fromkeys(out))
