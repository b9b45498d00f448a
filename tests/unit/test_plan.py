"""``kodcode plan``: request counts against what a demo run sent, the paper config against the
paper's scale, the fallbacks to documented defaults, prices and GPU-hours, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.plan import Inputs, StoreSample, SubsetResults, make_plan
from kodcode.plan.cli import load_config
from kodcode.plan.measure import Share, TokenSum, record_tokens, subset_of

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "demo", "profiles", "report", "envs")
# one subset of each way to make questions: MAGPIE prefill, several seeds a prompt, documents, tagging
FEW = ["Prefill", "Leetcode", "Docs", "Filter"]
OJ = ["Leetcode", "Filter"]  # of FEW, those config/config.yaml tags for stdin/stdout questions


def kodcode_plan(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kodcode.cli", "plan", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300)


def plan_json(*args: str, cwd: Path = ROOT) -> dict:
    proc = kodcode_plan("--format", "json", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def requests_by(plan: dict, key) -> dict:
    out: dict = {}
    for r in plan["rows"]:
        out[key(r)] = out.get(key(r), 0) + r["requests"]
    return out


# ------------------------------------------------------------------ against a real demo run


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """The demo workflow run in a scratch copy on FEW subsets up to their labelled SFT rows (every
    LLM stage and both executions; about 30 s), leaving its results/ and store behind."""
    wf = tmp_path_factory.mktemp("plan-demo")
    for name in WORKFLOW_PARTS:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wf / name)
    (wf / "few.yaml").write_text(f"subsets: [{', '.join(FEW)}]\n", encoding="utf-8")
    targets = [f"results/{s}/sft/labeled_000.jsonl" for s in FEW]
    targets += [f"results/{s}/online_judge/verified_000.jsonl" for s in OJ]  # the V1.1 stages too
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "few.yaml", "--",
                           *targets], cwd=wf, text=True, capture_output=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return wf


def sent_by_the_run(wf: Path) -> dict[tuple[str, str], int]:
    """Requests per (subset, stage) as the demo's generate jobs counted them."""
    out: dict[tuple[str, str], int] = {}
    for f in wf.glob("results/*/*/responses_*.stats.json"):
        d = json.loads(f.read_text(encoding="utf-8"))
        key = (d["subset"], d["stage"].removeprefix("generate_"))
        out[key] = out.get(key, 0) + d["requests"]
    return out


@pytest.mark.integration
def test_the_demo_plan_counts_what_the_demo_sent(demo_run):
    plan = plan_json("--configfile", "few.yaml", cwd=demo_run)
    planned = {k: round(v) for k, v in requests_by(plan, lambda r: (r["subset"], r["stage"])).items()}
    assert planned == sent_by_the_run(demo_run)
    # the store holds one record per request sent: the same counts per stage
    from kodcode.store import ContentStore

    stored = {stage: row["records"] for stage, row in ContentStore(str(demo_run / ".kodcode/store"), "responses").stats().items()}
    assert {k: round(v) for k, v in requests_by(plan, lambda r: r["stage"]).items()} == stored
    # executor runs: the attempts the execute jobs ran (unparseable answers are not run)
    ran = sum(json.loads(f.read_text())["attempts"] for f in demo_run.glob("results/*/*/verdicts_*.stats.json"))
    assert round(plan["totals"]["attempts"]) == ran == len(ContentStore(str(demo_run / ".kodcode/store"), "verdicts"))
    assert "measured" in plan["sources"]["survival shares"] and "default" not in plan["sources"]["survival shares"]
    assert plan["sources"]["tokens per request"] == "store chars/4"  # replayed answers carry no usage
    assert [n.split(":")[0] for n in plan["notes"]] == ["backend replay"]  # measured: no note about defaults
    # disk: the store's own size, within rounding of the sample
    store_files = sum(p.stat().st_size for p in (demo_run / ".kodcode/store").rglob("*") if p.is_file()
                      and "quarantine" not in p.parts)
    assert plan["totals"]["store_bytes"] == pytest.approx(store_files, rel=0.05)


@pytest.mark.integration
def test_the_table_has_a_row_per_subset_and_stage_and_totals(demo_run):
    proc = kodcode_plan("--configfile", "few.yaml", cwd=demo_run)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(line.startswith(tuple(FEW)) for line in lines) == 4 * len(FEW) + 2 * len(OJ)
    assert any(line.startswith("TOTAL") for line in lines) and "cost by provider" in proc.stdout
    tsv = kodcode_plan("--configfile", "few.yaml", "--format", "tsv", cwd=demo_run).stdout.splitlines()
    assert tsv[0].startswith("subset\tstage\tmodel") and len(tsv) == 1 + 4 * len(FEW) + 2 * len(OJ)


# ------------------------------------------------------------------ the paper's setting, defaults


def test_the_paper_config_lands_near_the_papers_scale(tmp_path):
    plan = plan_json("--configfile", "config/paper.yaml", "--store", str(tmp_path / "store"),
                     "--results", str(tmp_path / "results"))
    stage = requests_by(plan, lambda r: r["stage"])
    # step 1: ~1e6 prompts (question prompts and two tagging requests per Filter seed)
    assert 3e5 <= stage["questions"] + stage["tags"] <= 3e6
    # step 2: 10 attempts per question, millions of solution requests (the paper: up to ~1e7)
    assert 1e6 <= stage["solutions"] <= 3e7
    # verified questions (one style conversion each) within a factor of 3 of KodCode-V1's 447K
    assert 447_000 / 3 <= stage["style"] <= 447_000 * 3
    assert stage["sft"] == pytest.approx(3 * stage["style"] * (1 + 0.95))  # 3 answers per triplet
    assert plan["backend"] == "openai" and plan["totals"]["cost_usd"] > 1000
    assert plan["totals"]["cpu_hours"] > 0 and plan["totals"]["store_bytes"] > 1e9


def test_without_store_or_results_the_plan_says_it_used_defaults(tmp_path):
    proc = kodcode_plan("--configfile", "config/paper.yaml", "--store", str(tmp_path / "none"),
                        "--results", str(tmp_path / "none"))
    assert proc.returncode == 0, proc.stderr
    assert "note: no results/ of this run" in proc.stdout and "note: no response records in" in proc.stdout
    assert "survival shares: default" in proc.stdout and "tokens per request: default" in proc.stdout


# ------------------------------------------------------------------ arithmetic on small inputs


def config(**changes) -> dict:
    cfg, _ = load_config(ROOT, [])
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            cfg[section] = {**cfg[section], name: value}
        else:
            cfg[key] = value
    return cfg


def measured(seeds: int, **shares: tuple[int, int]) -> SubsetResults:
    return SubsetResults(seeds=seeds, shares={k: Share(*v) for k, v in shares.items()})


def test_requests_follow_each_steps_survival_share():
    cfg = config(subsets=["Leetcode"], questions={"Leetcode": {"seeds_per_prompt": 3, "n_prompts": 40}})
    res = {"Leetcode": measured(90, extract=(30, 40), dedup_keep=(20, 30), verified=(10, 20), complete=(5, 10),
                                parsed_solutions=(1, 2), parsed_sft=(1, 1), timeout_solutions=(0, 1),
                                timeout_sft=(0, 1), oj_eligible=(2, 10), parsed_online_judge=(5, 6))}
    plan = make_plan(Inputs(cfg, ["x"], res, StoreSample("none")))
    got = {r.stage: (round(r.requests), round(r.attempts)) for r in plan.rows}
    # 40 prompts -> 30 questions -> 20 kept -> 3 attempts each; 10 verified -> 15 triplets x 3 answers;
    # the 10 verified tagged for stdin/stdout form, 2 eligible -> 3 conversions each, 5 of 6 parse
    assert got == {"questions": (40, 0), "solutions": (60, 30), "style": (10, 0), "sft": (45, 45),
                   "oj_tags": (10, 0), "online_judge": (6, 5)}
    cfg["online_judge"] = {**cfg["online_judge"], "enabled": False}
    assert {r.stage for r in make_plan(Inputs(cfg, ["x"], res, StoreSample("none"))).rows} == {
        "questions", "solutions", "style", "sft"}


def test_filter_tags_two_requests_per_seed_and_prefill_needs_no_seeds():
    cfg = config(subsets=["Filter", "Prefill"], questions={"Filter": {"n_prompts": 7}, "Prefill": {"n_prompts": 5}})
    plan = make_plan(Inputs(cfg, ["x"], {"Filter": measured(10)}, StoreSample("none")))
    first = {r.subset: (r.stage, r.requests) for r in plan.rows if r.stage in ("tags", "questions")}
    assert first == {"Filter": ("tags", 14), "Prefill": ("questions", 5)}


def test_store_tokens_win_over_defaults_and_usage_over_characters():
    assert record_tokens({"request": {"messages": [{"content": "x" * 40}]},
                          "response": {"text": "y" * 8, "usage": {}}}) == (10, 2, False)
    assert record_tokens({"request": {"prompt": "abc"},
                          "response": {"text": "d", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}}) == (7, 3, True)
    assert subset_of("Code_Contests_00000001_I") == "Code_Contests" and subset_of("nothing") is None
    cfg = config(subsets=["Leetcode"])
    store = StoreSample("s", responses=1, sampled=1, sampled_tokens=300, response_bytes=3000)
    t = TokenSum()
    t.add(100, 200, True)
    store.by_stage[("solutions", cfg["models"]["solution"]["model"])] = t
    plan = make_plan(Inputs(cfg, ["x"], {"Leetcode": measured(9)}, store))
    sol = next(r for r in plan.rows if r.stage == "solutions")
    assert (sol.prompt_tokens / sol.requests, sol.completion_tokens / sol.requests) == (100, 200)
    assert sol.token_source == "store usage"
    other = next(r for r in plan.rows if r.stage == "sft")
    assert other.token_source == "default"


def test_prices_batch_discount_and_gpu_hours():
    prices = {"gpt-4o-2024-08-06": {"input": 2.0, "output": 10.0}}
    openai = config(subsets=["Prefill"], questions={"Prefill": {"n_prompts": 1000}},
                    llm={"backend": "openai", "openai": {"base_url": "https://api.example.com/v1"}},
                    plan={**config()["plan"], "prices": prices})
    plan = make_plan(Inputs(openai, ["x"], {}, StoreSample("none")))
    by = {r.stage: r for r in plan.rows}
    sol = by["solutions"]
    assert sol.provider == "api.example.com" and sol.gpu_hours == 0
    assert sol.cost_usd == pytest.approx((sol.prompt_tokens * 2 + sol.completion_tokens * 10) / 1e6)
    assert by["questions"].cost_usd is None  # no price for the prefill model: '?', and a note says so
    assert any("plan.prices['Qwen/Qwen2.5-Coder-7B-Instruct']" in n for n in plan.notes)
    batch = {**openai, "llm": {**openai["llm"], "openai": {**openai["llm"]["openai"], "mode": "batch"}}}
    half = next(r for r in make_plan(Inputs(batch, ["x"], {}, StoreSample("none"))).rows if r.stage == "solutions")
    assert half.cost_usd == pytest.approx(sol.cost_usd / 2)
    vllm = {**openai, "llm": {"backend": "vllm", "vllm": {"tensor_parallel_size": 2}}}
    gpu = next(r for r in make_plan(Inputs(vllm, ["x"], {}, StoreSample("none"))).rows if r.stage == "solutions")
    assert gpu.cost_usd == 0 and gpu.gpu_hours == pytest.approx(
        2 * (gpu.prompt_tokens / 20000 + gpu.completion_tokens / 2000) / 3600)


def test_cpu_hours_count_timeouts_at_the_limit():
    cfg = config(subsets=["Leetcode"])
    res = {"Leetcode": measured(30, timeout_solutions=(1, 10), parsed_solutions=(1, 1))}
    sol = next(r for r in make_plan(Inputs(cfg, ["x"], res, StoreSample("none"))).rows if r.stage == "solutions")
    limit = cfg["executor"]["limits"]["timeout_s"]
    assert sol.cpu_hours == pytest.approx(sol.attempts * (0.9 / 14.0 + 0.1 * limit) / 3600)


# ------------------------------------------------------------------ user errors: one line each


@pytest.mark.parametrize("content, expected", [
    (None, "config file not found"),
    ("verify: [unclosed\n", "is not valid YAML"),
    ("plan: {prices: {m: {input: 1}}}\n", "plan.prices.m.output is missing"),
    ("plan: {gpu: {tokens: 3}}\n", "plan.gpu.tokens is not a known key"),
])
def test_config_mistakes_are_one_line_naming_the_file_or_key(tmp_path, content, expected):
    extra = tmp_path / "extra.yaml"
    if content is not None:
        extra.write_text(content, encoding="utf-8")
    proc = kodcode_plan("--configfile", str(extra))
    assert proc.returncode == 2 and proc.stdout == ""
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_folder_without_the_workflow_says_where_to_run(tmp_path):
    proc = kodcode_plan("--directory", str(tmp_path))
    assert proc.returncode == 2 and "config/schema.yaml not found" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
