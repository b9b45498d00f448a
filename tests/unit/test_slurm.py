"""The SLURM additions: request checks against sinfo, the pending-job watchdog, and the
status-command preflight. The squeue/sinfo/scontrol text below was printed by a real
slurmctld (Slurm 22.05, Debian's slurm-wlm) on a 2-CPU node, partitions `ci` (default)
and `short` (MaxTime=1)."""

from __future__ import annotations

from kodcode import slurm

SINFO = "ci*|2|21694\nshort|2|21694\n"
SQUEUE = (
    "84|PartitionConfig|rule_dedup_wildcards_Docs|4|3000M|UNLIMITED|ci|N/A|/work/run\n"
    "86|Resources|rule_dedup_wildcards_Taco|2|1000M|UNLIMITED|ci|N/A|/work/run\n"
    "83|PartitionTimeLimit|rule_subset-Code_Contests_execute_generate_verify_...|1|1000M|10:00|short|N/A|/work/run\n"
    "90|PartitionConfig|rule_dedup_wildcards_Evol|4|3000M|UNLIMITED|ci|N/A|/elsewhere\n"
)
KNOWN = {
    "dedup": [slurm.RuleRequest("dedup", 4, 4000)],
    "subset-Code_Contests": [slurm.RuleRequest("generate", 1, 1000), slurm.RuleRequest("execute", 1, 2048),
                             slurm.RuleRequest("verify", 1, None)],
    "subset-Code": [slurm.RuleRequest("verify", 1, None)],  # a shorter id that is a prefix of the real one
}


def test_parse_sinfo_marks_the_default_partition():
    parts = slurm.parse_sinfo(SINFO + "big|64+|512000+\nbig|32|256000\n")
    assert parts["ci"] == slurm.Partition("ci", 2, 21694, True)
    assert not parts["short"].default
    assert parts["big"].cpus == 64 and parts["big"].mem_mb == 512000


def test_requests_that_fit_pass_and_the_others_name_rule_request_and_fix():
    parts = slurm.parse_sinfo(SINFO)
    ok = [slurm.JobRequest("execute", 2, 3072, None), slurm.JobRequest("dedup", 1, 4000, "short")]
    assert slurm.check_requests(ok, parts) == []
    bad = [
        slurm.JobRequest("execute", 16, 17408, None),
        slurm.JobRequest("execute", 16, 17408, None),  # reported once per rule
        slurm.JobRequest("dedup", 1, 100000, None),
        slurm.JobRequest("generate", 4, 1000, "gpu"),
    ]
    problems = slurm.check_requests(bad, parts)
    assert len(problems) == 3
    assert problems[0].startswith("rule execute asks for 16 CPUs, but the largest node in partition ci has 2")
    assert "--set-threads execute=2" in problems[0]
    assert "100000 MB" in problems[1] and "--set-resources dedup:mem_mb=M" in problems[1]
    assert "partition 'gpu', which this cluster does not have (sinfo lists ci, short)" in problems[2]
    assert all("\n" not in p for p in problems)
    assert slurm.check_requests(bad, {}) == []  # sinfo said nothing: nothing to hold them against


def test_watchdog_cancels_only_hopeless_jobs_of_its_own_folder_once():
    calls: list[list[str]] = []

    def run(argv):
        calls.append(argv)
        return SQUEUE if argv[0] == "squeue" else ""

    errors, warnings = [], []
    dog = slurm.Watchdog("/work/run", errors.append, warnings.append, known=KNOWN, run=run)
    first = dog.check_once()
    assert [j.job_id for j in first] == ["84", "83"]  # 86 waits for resources; 90 is another run's
    assert [c for c in calls if c[0] == "scancel"] == [["scancel", "84"], ["scancel", "83"]]
    assert dog.check_once() == []  # already cancelled: not reported twice
    assert len(errors) == 2 and not warnings

    cpu, time = errors
    assert cpu.startswith("SLURM job 84 for rule dedup can never start (Reason=PartitionConfig): it asks for "
                          "4 CPUs, 3000M memory in partition ci; cancelled.")
    assert "--set-threads dedup=N" in cpu
    assert time.startswith("SLURM job 83 for group subset-Code_Contests (execute, generate, verify) can never "
                           "start (Reason=PartitionTimeLimit): it asks for 1 CPU, 1000M memory, time 10:00")
    assert "--default-resources runtime=MINUTES" in time and "--set-threads" not in time


def test_watchdog_warns_once_about_jobs_that_may_wait_long():
    out = "91|ReqNodeNotAvail, UnavailableNodes:node3|rule_dedup_wildcards_Docs|1|1000M|UNLIMITED|ci|N/A|/r\n"
    warnings = []
    dog = slurm.Watchdog("/r", [].append, warnings.append, run=lambda argv: out)
    assert dog.check_once() == [] and dog.check_once() == []
    assert len(warnings) == 1 and "Reason=ReqNodeNotAvail" in warnings[0]


def test_never_starts():
    for reason in ("PartitionConfig", "PartitionTimeLimit", "QOSMaxCpuPerJobLimit", "AssocMaxWallDurationPerJobLimit",
                   "InvalidAccount", "BadConstraints"):
        assert slurm.never_starts(reason), reason
    for reason in ("Resources", "Priority", "Dependency", "ReqNodeNotAvail, UnavailableNodes:n1", "QOSGrpCpuLimit"):
        assert not slurm.never_starts(reason), reason


def test_preflight_status_commands():
    disabled = "Slurm accounting storage is disabled"
    assert "--slurm-status-command squeue" in slurm.preflight("sacct", run=lambda argv: disabled)
    assert slurm.preflight("sacct", run=lambda argv: "") is None
    config = "MaxJobCount             = 10000\nMinJobAge               = 600 sec\n"
    assert slurm.preflight("squeue", run=lambda argv: config) is None
    short = config.replace("600", "60")
    problem = slurm.preflight("squeue", run=lambda argv: short)
    assert problem.startswith("this cluster's MinJobAge is 60 s") and "--slurm-status-command sacct" in problem


def test_rule_name_from_comment():
    job = slurm.parse_squeue(SQUEUE)[0]
    assert job.rule == "dedup (Docs)"


def test_the_ci_slurm_check_knows_every_local_rule():
    """.ci/check_slurm_run.py fails a SLURM run in which a rule that is not a local rule ran on
    the submit host; its list must be the rule files' `localrules:` (but generate's, local only
    with the openai backend, which the CI run does not use)."""
    import importlib.util
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    declared: set[str] = set()
    for smk in (root / "rules").glob("*.smk"):
        for block in re.findall(r"^\s*localrules:\n((?:\s+\w+,?\n)+)", smk.read_text(encoding="utf-8"), re.M):
            declared |= set(re.findall(r"\w+", block))
    spec = importlib.util.spec_from_file_location("check_slurm_run", root / ".ci" / "check_slurm_run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.LOCAL_RULES == declared - {"generate"}
