# Shared definitions: subsets, shards, wildcard constraints and path helpers.
import kodcode.subsets as _subsets
import kodcode.sources.spec as _sources
from kodcode.templates import load_template

SUBSETS = list(config["subsets"])
for _s in SUBSETS:
    if _s not in _subsets.IMPLEMENTED:
        raise ValueError(f"subsets: {_s} is not implemented in this workflow version")
    if _subsets.spec(_s).mode != "prefill":
        _sources.configured_source(config, _s)  # one-line error naming sources.<Subset> if missing or wrong
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
# model calls is a job. Bookkeeping: building seeds and question prompts, labelling, and
# what reads every shard. Local runs ignore groups and localrules. (docs/cluster.md)
CHAIN_STRETCHES = ("questions", "verify", "style", "label")


localrules:
    all,
    fetch_source,
    seeds,
    question_requests,
    tag_requests,
    sft_label,
    pass_at_k,
    release_subset,
    release_card,


def chain_group(stretch):
    """The job group of a rule in one stretch of a subset's or a shard's chain."""
    assert stretch in CHAIN_STRETCHES, stretch

    def group(wc):
        if len(SHARDS) == 1:  # nothing to fan out: the subset is one job
            name = f"subset-{wc.subset}"
        elif stretch == "questions":
            name = f"questions-{wc.subset}"
        else:
            name = f"shard-{wc.subset}-{wc.shard}"
        return name if BACKEND == "replay" else f"{name}-{stretch}"

    return group


def generate_group(wc):
    if BACKEND != "replay":
        return None
    return chain_group("questions" if wc.stage in ("questions", "tags") else "verify")(wc)


def execute_group(wc):
    return chain_group("verify" if wc.exec_stage == "solutions" else "label")(wc)


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
