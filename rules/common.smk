# Shared definitions: subsets, shards, wildcard constraints and path helpers.
from pathlib import Path

import kodcode.decontam.benchmarks as _bench
import kodcode.paper.baselines as _baselines
import kodcode.subsets as _subsets
import kodcode.sources.spec as _sources
from kodcode.config import stop as _stop
from kodcode.paper.compare import published_files as _published_files, published_source as _published_source
from kodcode.paper.files import PaperInputError as _PaperInputError
from kodcode.sources.errors import SourceError as _SourceError
from kodcode.templates import load_template

SUBSETS = list(config["subsets"])


def _source_problems():
    """One line per subset whose sources.<Subset> is missing or wrong, found before any job."""
    for s in SUBSETS:
        if s not in _subsets.IMPLEMENTED:
            yield f"subsets: {s} is not implemented in this workflow version; remove it from subsets"
        elif _subsets.spec(s).mode != "prefill":
            try:
                _sources.configured_source(config, s)
            except _SourceError as exc:
                yield str(exc)


_problems = list(_source_problems())
if _problems:
    _stop(_problems)
SHARDS = [f"{i:03d}" for i in range(config["shards"])]
STORE = config["store"]
GEN_STAGES = ["questions", "tags", "solutions", "style", "sft"]  # tags: Filter only
BACKEND = config["llm"]["backend"]

# On a cluster each SLURM job starts Snakemake afresh (seconds), and inside a job each rule
# starts it once more, so the work travels in job groups and the bookkeeping stays on the
# submit host. The work: model calls, dedup and test execution, and the light steps between
# them (a chain cut at every light step would be more jobs, not fewer). With replay answers
# a subset's Step 1 (answers to deduplicated questions) is one job and each shard's Step 2+3
# chain another (with one shard, the two are one job); with a real model the chain breaks at each `generate` (a vLLM engine is a
# GPU job of its own, an API client runs on the submit host), so each stretch between two
# model calls is a job. Bookkeeping: building seeds and question prompts, labelling, what
# reads every shard (release, paper figures), and the small shared benchmark index. Local runs ignore groups and localrules. (docs/cluster.md)
CHAIN_STRETCHES = ("questions", "verify", "style", "label")


localrules:
    all,
    fetch_source,
    benchmark_index,
    seeds,
    question_requests,
    tag_requests,
    sft_label,
    pass_at_k,
    release_subset,
    release_card,
    paper_baseline,
    paper_fig2_pass_at_k,
    paper_fig3_lengths,
    paper_fig4_tsne,
    paper_fig5_difficulty,
    paper_fig6_contamination,
    paper_fig7_dataflow,
    paper_fig16_subsets,
    paper_readme,


def _chain_name(stretch, subset, shard):
    if len(SHARDS) == 1:  # nothing to fan out: the subset is one job
        name = f"subset-{subset}"
    elif stretch == "questions":
        name = f"questions-{subset}"
    else:
        name = f"shard-{subset}-{shard}"
    return name if BACKEND == "replay" else f"{name}-{stretch}"


def chain_group(stretch):
    """The job group of a rule in one stretch of a subset's or a shard's chain."""
    assert stretch in CHAIN_STRETCHES, stretch
    return lambda wc: _chain_name(stretch, wc.subset, getattr(wc, "shard", None))


def generate_group(wc):
    if BACKEND != "replay":
        return None
    return chain_group("questions" if wc.stage in ("questions", "tags") else "verify")(wc)


def execute_group(wc):
    return chain_group("verify" if wc.exec_stage == "solutions" else "label")(wc)


def subset_group(wc):
    """A per-subset step after the shards (decontaminate): part of the subset's job when the
    subset has one shard, else a job of its own."""
    return _chain_name("label", wc.subset, SHARDS[0]) if len(SHARDS) == 1 else None


wildcard_constraints:
    subset="|".join(SUBSETS),
    shard="|".join(SHARDS),
    stage="|".join(GEN_STAGES),
    exec_stage="solutions|sft",


def shards(pattern, **kw):
    """All shard files of one subset's pattern (pattern uses {shard} and {subset})."""
    return expand(pattern, shard=SHARDS, allow_missing=True, **kw)


def release_targets():
    return [
        "results/release/README.md",
        "results/release/dataflow.tsv",
        "results/release/provenance.json",
    ] + expand(
        [
            "results/release/KodCode-V1/{subset}.parquet",
            "results/release/KodCode-V1-SFT-R1/{subset}.parquet",
        ],
        subset=SUBSETS,
    )


def template(name):
    """Prompt template text (config prompts_dir overrides the packaged one), passed as a
    param so that editing a template reruns the stage that renders it."""
    return load_template(name, config.get("prompts_dir"))


def question_seeds(wc):
    return [] if wc.subset == "Prefill" else ["results/{subset}/seeds.jsonl"]


def subset_stats(subset):
    """Every stats sidecar of one subset, for the data-flow table."""
    s = subset
    files = [] if s == "Prefill" else [f"results/{s}/seeds.stats.json"]
    step1 = "tags" if _subsets.spec(s).mode == "filter" else "questions"  # Filter: tagged, not generated
    files += [
        f"results/{s}/{step1}/requests.stats.json",
        f"results/{s}/questions/extracted.stats.json",
        f"results/{s}/questions/deduped.stats.json",
        f"results/{s}/solutions/requests.stats.json",
    ]
    per_shard = [
        f"{step1}/responses",
        "solutions/responses",
        "solutions/attempts",
        "solutions/verdicts",
        "solutions/verified",
        "style/requests",
        "style/responses",
        "style/triplets",
        "sft/requests",
        "sft/responses",
        "sft/attempts",
        "sft/verdicts",
        "sft/labeled",
    ]
    files += [f"results/{s}/{p}_{shard}.stats.json" for p in per_shard for shard in SHARDS]
    return files


# Benchmark decontamination (rules/decontam.smk): on when decontam.benchmarks lists any.
BENCHMARKS = _bench.configured(config)
DECONTAM_ON = bool(BENCHMARKS)
DECONTAM_ACTION = (config.get("decontam") or {}).get("action", "drop")


def decontam_files(subset, kind="report.jsonl"):
    return [f"results/{subset}/decontam/{kind}"] if DECONTAM_ON else []


def decontam_index(name):
    base = f"results/decontam/benchmarks/{name}"
    return {"problems": f"{base}.jsonl", "vectors": f"{base}.npy", "stats": f"{base}.stats.json"}


def benchmark_inputs(wc):
    """A benchmark's cache manifest, or every file of its local copy (editing one rebuilds)."""
    b = BENCHMARKS[wc.benchmark]
    if b.path:
        return sorted(str(p) for p in Path(b.path).rglob("*") if p.is_file()) if Path(b.path).is_dir() else [b.path]
    return [m for m in [_bench.manifest(config, b)] if m]


# The paper's figures (rules/paper.smk): Fig. 4's baseline sets, and paper.published, the
# released KodCode-V1 (a local folder, or hf:<owner>/<name>@<revision>) that rule paper_compare
# sets beside this run (null: no comparison).
try:
    BASELINES = _baselines.configured(config)
    PAPER_PUBLISHED = _published_source((config.get("paper") or {}).get("published"))
    PAPER_PUBLISHED_FILES = _published_files(PAPER_PUBLISHED)  # a local folder's parquet files
except _PaperInputError as _exc:
    _stop([str(_exc)])


def baseline_inputs(wc):
    """A baseline set's cache manifest, or every file of its local copy."""
    b = BASELINES[wc.baseline]
    return _baselines.local_files(b) or [_baselines.manifest(config, b)]


# Everything fetch_source downloads into cache_dir (seed sources, benchmarks, the
# baseline sets and the published release). A unit two of them name (the Package subset's seeds
# and the Package-Instruct baseline) is one cache entry, fetched once.
SEED_SUBSETS = [s for s in SUBSETS if _subsets.spec(s).mode != "prefill"]
CACHE_DIR = _sources.cache_dir(config)
DOWNLOADS = {
    **{k: u for b in BASELINES.values() if (u := b.unit()) for k in [u.key]},
    **({PAPER_PUBLISHED.unit.key: PAPER_PUBLISHED.unit} if PAPER_PUBLISHED and PAPER_PUBLISHED.unit else {}),
    **_bench.fetch_units(BENCHMARKS),
    **_sources.fetch_units(config, SEED_SUBSETS),  # last: a seed source's name is the one logged
}


def paper_targets(out_dir="results/paper"):
    """What the paper figures add to the final target (see rules/paper.smk). Fig. 6 needs
    decontamination on, the comparison with a published release needs paper.published."""
    return _paper_targets(out_dir, compare=PAPER_PUBLISHED is not None, contamination=DECONTAM_ON)
