"""The plan itself: requests per subset and stage from the config, carried through each step's
survival share; tokens, cost or GPU-hours, executor CPU-hours and disk for each."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping
from urllib.parse import urlparse

from ..subsets import spec
from . import defaults as D
from .measure import StoreSample, SubsetResults

# stage -> the models.<role> that answers it (Prefill's questions: models.prefill)
ROLES = {"questions": "question", "tags": "tagger", "solutions": "solution", "style": "style", "sft": "reasoning",
         "oj_tags": "style", "online_judge": "solution"}  # rules/online_judge.smk: as stages.online_judge asks
EXEC_STAGES = ("solutions", "sft", "online_judge")  # their answers are run by the executor


@dataclass
class Row:
    subset: str
    stage: str
    model: str
    provider: str
    requests: float
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    token_source: str = ""
    cost_usd: float | None = 0.0  # None: no price for the model
    gpu_hours: float = 0.0
    attempts: float = 0.0  # executor runs (solutions, sft)
    cpu_hours: float = 0.0
    store_bytes: float = 0.0
    results_bytes: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    config_files: list[str]
    backend: str
    rows: list[Row]
    sources: dict[str, str]  # what each kind of number came from
    notes: list[str] = field(default_factory=list)

    def total(self, name: str, stage: str | None = None) -> float:
        return sum(getattr(r, name) or 0.0 for r in self.rows if stage is None or r.stage == stage)

    def cost_by_provider(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for r in self.rows:
            if r.provider in out and out[r.provider] is None:
                continue
            out[r.provider] = None if r.cost_usd is None else (out.get(r.provider) or 0.0) + r.cost_usd
        return out

    def as_dict(self) -> dict[str, Any]:
        totals = {k: self.total(k) for k in ("requests", "prompt_tokens", "completion_tokens", "gpu_hours",
                                             "attempts", "cpu_hours", "store_bytes", "results_bytes")}
        totals["cost_usd"] = None if any(r.cost_usd is None for r in self.rows) else self.total("cost_usd")
        return {"config_files": self.config_files, "backend": self.backend, "rows": [r.as_dict() for r in self.rows],
                "totals": totals, "cost_by_provider": self.cost_by_provider(), "sources": self.sources,
                "notes": self.notes}


@dataclass
class Inputs:
    config: Mapping[str, Any]  # checked, defaults filled in
    config_files: list[str]
    results: dict[str, SubsetResults]
    store: StoreSample


class _Rates:
    """Survival shares of one subset: measured when its sidecars have them, else the default;
    records which it was for the plan's notes."""

    def __init__(self, measured: SubsetResults | None, used: dict[str, set[str]]):
        self.measured, self.used = measured, used

    def __call__(self, name: str) -> float:
        got = self.measured.rate(name) if self.measured else None
        self.used.setdefault(name, set()).add("measured" if got is not None else "default")
        return got if got is not None else D.RATES[name].value


def _seeds(subset: str, cfg: Mapping[str, Any], measured: SubsetResults | None, used: dict[str, str]) -> float:
    if measured and measured.seeds is not None:
        used[subset] = "results seeds.stats.json"
        return measured.seeds
    given = (cfg.get("plan") or {}).get("seeds", {}).get(subset)
    if given is not None:
        used[subset] = "plan.seeds"
        return given
    sample = (cfg.get("sources") or {}).get(subset, {}).get("sample")
    if sample:
        used[subset] = f"sources.{subset}.sample"
        return sample
    used[subset] = "default (kodcode.plan.defaults.SEEDS)"
    return D.SEEDS[subset].value


def _prompts(subset: str, seeds: float, cfg: Mapping[str, Any]) -> float:
    """Question prompts (Filter: seeds tagged), as stages.questions / stages.tagging build them."""
    sp = spec(subset)
    q = (cfg.get("questions") or {}).get(subset, {})
    n = q.get("n_prompts")
    if sp.mode == "prefill":
        return float(n or 0)
    per = int(q.get("seeds_per_prompt", sp.seeds_per_prompt) or 1)
    if sp.mode == "filter" or per == 1:
        return float(min(n, seeds) if n else seeds)
    return float(n if n else seeds // per)  # several seeds a prompt: n_prompts draws, with reuse


def subset_requests(subset: str, cfg: Mapping[str, Any], rate: _Rates, seeds: float) -> list[tuple[str, float, float]]:
    """(stage, requests, executor runs) of one subset, in the order of the chain."""
    attempts = int(cfg["verify"]["attempts"])
    samples = int(cfg["sft"]["samples"])
    prompts = _prompts(subset, seeds, cfg)
    if spec(subset).mode == "filter":
        first = ("tags", 2 * prompts, 0.0)  # quality and category: two requests a seed
        questions = prompts * rate("filter_keep")
    else:
        first = ("questions", prompts, 0.0)
        questions = prompts * rate("extract")
    deduped = questions * rate("dedup_keep")
    solutions = deduped * attempts  # every attempt is asked for (verify needs all n, see module doc)
    verified = deduped * rate("verified")
    triplets = verified * (1 + rate("complete"))
    sft = triplets * samples
    chain = [first,
             ("solutions", solutions, solutions * rate("parsed_solutions")),
             ("style", verified, 0.0),
             ("sft", sft, sft * rate("parsed_sft"))]
    oj = cfg.get("online_judge") or {}
    if oj.get("enabled") and subset in (oj.get("subsets") or cfg["subsets"]):
        # each verified question tagged once; each eligible one asked `attempts` times, from scratch
        conversions = verified * rate("oj_eligible") * attempts
        chain += [("oj_tags", verified, 0.0),
                  ("online_judge", conversions, conversions * rate("parsed_online_judge"))]
    return chain


def _tokens(subset: str, stage: str, model: str, role: str, store: StoreSample) -> tuple[float, float, str]:
    """Average (prompt, completion) tokens of one request: this subset's records in the store,
    else the stage's (any subset), else the role's default."""
    for found in (store.by_subset.get((subset, stage, model)), store.by_stage.get((stage, model))):
        if found and found.records:
            return found.prompt / found.records, found.completion / found.records, found.source
    pt, ct, _ = D.TOKENS[role]
    return pt, ct, "default"


def _provider(model: str, cfg: Mapping[str, Any]) -> str:
    llm = cfg["llm"]
    backend = llm["backend"]
    if backend != "openai":
        return backend
    oa = llm.get("openai") or {}
    url = ((oa.get("models") or {}).get(model) or {}).get("base_url") or oa.get("base_url") or ""
    return urlparse(url).hostname or url or "openai"


def _price(row: Row, cfg: Mapping[str, Any], notes: list[str]) -> None:
    """Dollars for API stages, GPU-hours for vLLM stages; archives cost nothing."""
    plan, llm = cfg.get("plan") or {}, cfg["llm"]
    if llm["backend"] == "vllm":
        gpu = plan.get("gpu") or {}
        speed = {**gpu, **((gpu.get("models") or {}).get(row.model) or {})}
        seconds = row.prompt_tokens / speed["input_tokens_per_s"] + row.completion_tokens / speed["output_tokens_per_s"]
        row.gpu_hours = seconds * int((llm.get("vllm") or {}).get("tensor_parallel_size", 1)) / 3600
        row.cost_usd = 0.0
        return
    if llm["backend"] != "openai":
        row.cost_usd = 0.0  # replay / authored: nothing is sent
        return
    price = (plan.get("prices") or {}).get(row.model)
    if price is None:
        row.cost_usd = None
        note = f"no price for {row.model}: add plan.prices['{row.model}'] (US$ per million input/output tokens)"
        if note not in notes:
            notes.append(note)
        return
    factor = plan["batch_discount"] if (llm.get("openai") or {}).get("mode") == "batch" else 1.0
    row.cost_usd = (row.prompt_tokens * price["input"] + row.completion_tokens * price["output"]) / 1e6 * factor


def _cpu_hours(runs: float, timeout_share: float, cfg: Mapping[str, Any]) -> float:
    """A timed-out attempt holds its worker for the whole limit; the rest run at the measured rate."""
    per_core = cfg["plan"]["executor"]["attempts_per_s_per_core"]
    timeout_s = float(cfg["executor"]["limits"]["timeout_s"])
    return runs * ((1 - timeout_share) / per_core + timeout_share * timeout_s) / 3600


def _store_bytes_per_token(store: StoreSample) -> tuple[float, float, str]:
    """(bytes per token, bytes per record) of response records: measured when the store has
    records (all of its bytes over the sampled tokens, scaled to all records), else defaults."""
    if store.responses and store.sampled and store.sampled_tokens:
        tokens_all = store.sampled_tokens * store.responses / store.sampled
        return store.response_bytes / tokens_all, 0.0, f"measured: {store.root}"
    return D.STORE_BYTES_PER_TOKEN.value, D.STORE_BYTES_PER_RECORD.value, "default"


def make_plan(inp: Inputs) -> Plan:
    cfg = inp.config
    notes: list[str] = []
    rates_used: dict[str, set[str]] = {}
    seeds_used: dict[str, str] = {}
    per_token, per_record, store_src = _store_bytes_per_token(inp.store)
    verdict_bytes = inp.store.verdict_bytes / inp.store.verdicts if inp.store.verdicts else D.VERDICT_BYTES.value
    token_src: set[str] = set()
    rows: list[Row] = []
    for subset in cfg["subsets"]:
        measured = inp.results.get(subset)
        rate = _Rates(measured, rates_used)
        seeds = _seeds(subset, cfg, measured, seeds_used) if spec(subset).mode != "prefill" else 0.0
        for stage, requests, runs in subset_requests(subset, cfg, rate, seeds):
            role = "prefill" if subset == "Prefill" and stage == "questions" else ROLES[stage]
            model = cfg["models"][role]["model"]
            pt, ct, src = _tokens(subset, stage, model, role, inp.store)
            token_src.add(src)
            row = Row(subset, stage, model, _provider(model, cfg), requests, requests * pt, requests * ct, src)
            _price(row, cfg, notes)
            if stage in EXEC_STAGES:
                row.attempts = runs
                row.cpu_hours = _cpu_hours(runs, rate(f"timeout_{stage}"), cfg)
            row.store_bytes = requests * ((pt + ct) * per_token + per_record) + row.attempts * verdict_bytes
            rows.append(row)
    plan = Plan(list(inp.config_files), cfg["llm"]["backend"], rows, {}, notes)
    _results_bytes(plan, inp.results)
    shares = {k: " and ".join(sorted(v)) for k, v in rates_used.items()}
    plan.sources = {
        "survival shares": _grouped(shares),
        "seeds": _grouped(seeds_used),
        "tokens per request": ", ".join(sorted(token_src)),
        "store bytes": store_src,
        "executor": (f"{cfg['plan']['executor']['attempts_per_s_per_core']} attempts/s per core "
                     f"(plan.executor.attempts_per_s_per_core), timeouts at {cfg['executor']['limits']['timeout_s']} s"),
    }
    if cfg["llm"]["backend"] in ("replay", "authored"):
        notes.append(f"backend {cfg['llm']['backend']}: answers come from files, nothing is paid; set llm.backend "
                     "(e.g. --configfile config/paper.yaml) to price a real run")
    if not inp.results:
        notes.append("no results/ of this run: survival shares and seed counts are defaults (kodcode.plan.defaults)")
    if not inp.store.responses:
        notes.append(f"no response records in {inp.store.root}: token averages are defaults (kodcode.plan.defaults)")
    return plan


def _grouped(used: dict[str, str]) -> str:
    """``{a: x, b: y, c: x}`` -> ``x: a, c; y: b``: one entry per source, short enough to read."""
    by: dict[str, list[str]] = {}
    for name, source in used.items():
        by.setdefault(source, []).append(name)
    return "; ".join(f"{source}: {', '.join(names)}" for source, names in by.items())


def _results_bytes(plan: Plan, results: dict[str, SubsetResults]) -> None:
    """results/ grows with the text it holds: bytes per character of prompt + answer measured on
    the subsets that have results, else the default."""
    chars = {s: 0.0 for s in results}
    for r in plan.rows:
        if r.subset in chars:
            chars[r.subset] += 4 * (r.prompt_tokens + r.completion_tokens)
    measured = sum(chars.values())
    factor = sum(results[s].bytes for s in chars) / measured if measured else D.RESULTS_BYTES_PER_CHAR.value
    plan.sources["results bytes"] = "measured: results/" if measured else "default"
    for r in plan.rows:
        r.results_bytes = 4 * (r.prompt_tokens + r.completion_tokens) * factor
