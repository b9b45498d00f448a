# Shared definitions: subsets, shards, wildcard constraints and path helpers.
import re
from pathlib import Path

import kodcode.decontam.benchmarks as _bench
import kodcode.paper.baselines as _baselines
import kodcode.subsets as _subsets
import kodcode.sources.spec as _sources
from kodcode.config import stop as _stop
from kodcode.paper.compare import published_files as _published_files, published_source as _published_source
from kodcode.paper.files import PaperInputError as _PaperInputError
from kodcode.snake import stats_sidecars as _stats_sidecars
from kodcode.sources.errors import SourceError as _SourceError
from kodcode.templates import load_template

SUBSETS = list(config["subsets"])


def _source_problems():
    """One line per subset whose sources.<Subset> (or, for Prefill, the prefill section) is
    missing or wrong, found before any job."""
    for s in SUBSETS:
        if s not in _subsets.IMPLEMENTED:
            yield f"subsets: {s} is not implemented in this workflow version; remove it from subsets"
        elif _subsets.spec(s).mode == "prefill":
            if "prefill" not in config:
                yield (f"config: prefill is missing; the {s} subset needs prefill.family and prefill.openings "
                       "(see config/schema.yaml), or remove it from subsets")
        else:
            try:
                _sources.configured_source(config, s)
            except _SourceError as exc:
                yield str(exc)


_problems = list(_source_problems())
if _problems:
    _stop(_problems)
SHARDS = [f"{i:03d}" for i in range(config["shards"])]
STORE = config["store"]
GEN_STAGES = ["questions", "tags", "solutions", "style", "sft",  # served by generate (tags for Filter only)
              "oj_tags", "online_judge"]  # rules/online_judge.smk, when online_judge.enabled
EXEC_STAGES = ["solutions", "sft"]  # the stages whose attempts execute runs
BACKEND = config["llm"]["backend"]


def any_of(names):
    """A wildcard constraint matching exactly these names (none: a pattern that never matches)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


# Which Step 1 each subset takes (kodcode.subsets): seeds built from a source (all but Prefill),
# questions generated (all but Filter, rules/questions.smk) or seed questions tagged (Filter,
# rules/tagging.smk).
SEED_SUBSETS = [s for s in SUBSETS if _subsets.spec(s).mode != "prefill"]
GENERATED_SUBSETS = [s for s in SUBSETS if _subsets.spec(s).mode != "filter"]
TAGGED_SUBSETS = [s for s in SUBSETS if _subsets.spec(s).mode == "filter"]

# On a cluster each SLURM job starts Snakemake afresh (seconds), and inside a job each rule
# starts it once more, so the work travels in job groups and the bookkeeping stays on the
# submit host. The work: model calls, dedup and test execution, and the light steps between
# them (a chain cut at every light step would be more jobs, not fewer). With replay answers
# a subset's Step 1 (answers to deduplicated questions) is one job and each shard's Step 2+3
# chain another (with one shard, the two are one job); with a real model the chain breaks at each `generate` (a vLLM engine is a
# GPU job of its own, an API client runs on the submit host), so each stretch between two
# model calls is a job. Bookkeeping: building seeds and question prompts, labelling, what
# reads every shard (release, paper figures), and the small shared benchmark index. Local runs ignore groups and localrules. (docs/cluster.md)
CHAIN_STRETCHES = ("questions", "verify", "style", "label", "online_judge")


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
    if stretch == "online_judge":
        # a job of its own after the subset's: beside the style and SFT steps it would make the
        # subset's job ask for a second CPU for its whole run (a group asks for its widest layer)
        name = f"online-judge-{subset}" + (f"-{shard}" if len(SHARDS) > 1 else "")
    elif len(SHARDS) == 1:  # nothing to fan out: the subset is one job
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
    if wc.stage in ("oj_tags", "online_judge"):
        return chain_group("online_judge")(wc)
    return chain_group("questions" if wc.stage in ("questions", "tags") else "verify")(wc)


def execute_group(wc):
    return chain_group("verify" if wc.exec_stage == "solutions" else "label")(wc)


def subset_group(wc):
    """A per-subset step after the shards (decontaminate): part of the subset's job when the
    subset has one shard, else a job of its own."""
    return _chain_name("label", wc.subset, SHARDS[0]) if len(SHARDS) == 1 else None


wildcard_constraints:
    subset=any_of(SUBSETS),
    shard=any_of(SHARDS),
    stage=any_of(GEN_STAGES),
    exec_stage=any_of(EXEC_STAGES),


# Rules name their inputs by other rules' outputs (`rules.<rule>.output.<name>`), so each path
# is written once, in the rule that makes it. Snakemake knows the outputs of a rule only after
# its definition, so the Snakefile includes the rule files in the order of the chain, and the
# helpers below that name later rules run only when called (by input functions or later rules).


def shards(pattern, **wildcards):
    """Every shard's file of a per-shard pattern, with ``wildcards`` set and the others
    ({subset}) left for the rule that uses them."""
    return expand(pattern, shard=SHARDS, allow_missing=True, **wildcards)


def fill(pattern, **wildcards):
    """A rule's output pattern with some wildcards set, e.g. the responses of rule generate
    (``{stage}``) for one stage; the others are left for the rule that uses it."""
    (path,) = expand(pattern, allow_missing=True, **wildcards)
    return path


def release_targets():
    """The release: card, data-flow table, provenance and each subset's two parquet files."""
    release = rules.release_subset.output
    return list(rules.release_card.output) + expand([release.v1, release.sft], subset=SUBSETS)


def template(name):
    """Prompt template text (config prompts_dir overrides the packaged one), passed as a
    param so that editing a template reruns the stage that renders it."""
    return load_template(name, config["prompts_dir"])


def subset_stats(subset):
    """Every stats sidecar of one subset, for the data-flow table: the ``stats`` output of each
    job of its chain, found from the rules themselves (kodcode.snake.stats_sidecars), so a new
    rule with a ``stats`` output is counted without being listed here."""
    values = {"subset": [subset], "stage": GEN_STAGES, "exec_stage": EXEC_STAGES}
    return _stats_sidecars(workflow.rules, values, fan_out={"shard": SHARDS})


# Benchmark decontamination (rules/decontam.smk): on when decontam.benchmarks lists any; off,
# its rules are not defined.
BENCHMARKS = _bench.configured(config)
DECONTAM_ON = bool(BENCHMARKS)
DECONTAM_ACTION = config["decontam"]["action"]


def decontam_files(subset, output="report"):
    """One subset's decontamination report (or its ``stats``), none when the step is off."""
    return expand(getattr(rules.decontaminate.output, output), subset=subset) if DECONTAM_ON else []


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
    PAPER_PUBLISHED = _published_source(config["paper"]["published"])
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
