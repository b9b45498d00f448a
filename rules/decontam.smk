# Benchmark decontamination (paper Sec. 3.4, kodcode.decontam): every released row's nearest
# benchmark prompt by embedding cosine similarity (the dedup model). Hub benchmarks are
# downloaded by fetch_source (rules/seeds.smk) into the seed sources' cache; benchmark_index
# embeds each benchmark once; decontaminate checks one subset's final triplets (both styles);
# release_subset drops (or flags) the questions at or above decontam.threshold. Off when
# decontam.benchmarks is empty: then these rules are not defined at all.
from kodcode.decontam.loaders import humaneval_version

DECONTAM_EMBED = {"model": config["dedup"]["model"], "batch_size": config["dedup"]["batch_size"]}

if DECONTAM_ON:

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
            benchmark=any_of(BENCHMARKS),
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
            triplets=shards(rules.triplets.output.triplets),
            index=[f for name in BENCHMARKS for f in decontam_index(name).values()],
            # not read: the release waits for the SFT verdicts anyway, and checking after them
            # keeps a one-shard subset's SLURM job one CPU wide (a job group asks for the CPUs of
            # its widest step, and beside sft_requests this would be a second CPU)
            after_sft=shards(rules.execute.output.verdicts, exec_stage="sft"),
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
            cfg={**DECONTAM_EMBED, "threshold": config["decontam"]["threshold"]},
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

    localrules:
        benchmark_index,
