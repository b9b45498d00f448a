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
