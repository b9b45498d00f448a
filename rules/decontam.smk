# Benchmark decontamination (paper Sec. 3.4): every released row's nearest benchmark prompt by
# embedding cosine similarity (the dedup model). benchmark_index embeds each benchmark once;
# decontaminate checks one subset's final triplets (both styles); release_subset drops (or flags)
# the questions at or above decontam.threshold. Off when decontam.benchmarks is empty or unset.
from kodcode.decontam.loaders import humaneval_version

# hf benchmarks not already fetched for a seed source (fetch_source serves those keys)
BENCH_UNITS = {k: u for k, u in _bench.fetch_units(BENCHMARKS).items() if k not in FETCH_UNITS}
DECONTAM_EMBED = {"model": config["dedup"]["model"], "batch_size": config["dedup"]["batch_size"]}


# downloads need the network, which cluster compute nodes often lack
rule fetch_benchmark:
    output:
        manifest=os.path.join(CACHE_DIR, "{key}", "manifest.json"),
    params:
        unit=lambda wc: BENCH_UNITS[wc.key].to_dict(),
    wildcard_constraints:
        key="|".join(re.escape(k) for k in sorted(BENCH_UNITS)) or "(?!)",
    log:
        "logs/sources/{key}.log",
    benchmark:
        "benchmarks/sources/{key}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/fetch_source.py"


rule benchmark_index:
    input:
        benchmark_inputs,
    output:
        **decontam_index("{benchmark}"),
    params:
        spec=lambda wc: BENCHMARKS[wc.benchmark].to_dict(),
        manifest=lambda wc: _bench.manifest(config, BENCHMARKS[wc.benchmark]),
        embed=DECONTAM_EMBED,
        # HumanEval's problems are whatever the installed package ships: a new version rebuilds
        package=lambda wc: humaneval_version() if BENCHMARKS[wc.benchmark].kind == "package" else None,
    wildcard_constraints:
        benchmark="|".join(BENCHMARKS) or "(?!)",
    resources:
        mem_mb=4000,
    log:
        "logs/decontam/{benchmark}.log",
    benchmark:
        "benchmarks/decontam/{benchmark}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/decontaminate.py"


rule decontaminate:
    input:
        triplets=shards("results/{subset}/style/triplets_{shard}.jsonl"),
        index=[f for name in BENCHMARKS for f in decontam_index(name).values()],
        # not read: the release waits for the SFT verdicts anyway, and checking after them
        # keeps a one-shard subset's SLURM job one CPU wide (a job group asks for the CPUs of
        # its widest step, and beside sft_requests this would be a second CPU)
        after_sft=shards("results/{subset}/sft/verdicts_{shard}.jsonl"),
    output:
        report=report(
            "results/{subset}/decontam/report.jsonl",
            caption="../report/decontam.rst",
            category="Decontamination",
            subcategory="{subset}",
        ),
        stats="results/{subset}/decontam/report.stats.json",
    params:
        indexes={name: decontam_index(name) for name in BENCHMARKS},
        cfg={**DECONTAM_EMBED, "threshold": config.get("decontam", {}).get("threshold", 0.95)},
    resources:
        mem_mb=4000,
    group:
        subset_group
    log:
        "logs/{subset}/decontaminate.log",
    benchmark:
        "benchmarks/{subset}/decontaminate.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/decontaminate.py"
