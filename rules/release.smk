rule release_subset:
    input:
        triplets=shards("results/{subset}/style/triplets_{shard}.jsonl"),
        labeled=shards("results/{subset}/sft/labeled_{shard}.jsonl"),
    output:
        v1="results/release/KodCode-V1/{subset}.parquet",
        sft="results/release/KodCode-V1-SFT-R1/{subset}.parquet",
    params:
        cfg={
            "version": config["version"],
            "trial_tag": config["verify"]["trial_tag"],
            "attempts": config["verify"]["attempts"],
        },
    log:
        "logs/{subset}/release_subset.log",
    benchmark:
        "benchmarks/{subset}/release_subset.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/release_subset.py"


rule release_card:
    input:
        stats=[f for s in SUBSETS for f in subset_stats(s)],
        pass_at_k=expand("results/{subset}/solutions/pass_at_k.json", subset=SUBSETS),
        v1=expand("results/release/KodCode-V1/{subset}.parquet", subset=SUBSETS),
        sft=expand("results/release/KodCode-V1-SFT-R1/{subset}.parquet", subset=SUBSETS),
    output:
        card="results/release/README.md",
        flow=report(
            "results/release/dataflow.tsv",
            caption="../report/dataflow.rst",
            category="Release",
        ),
        provenance="results/release/provenance.json",
    params:
        subsets=SUBSETS,
        stats={s: subset_stats(s) for s in SUBSETS},
        config=config,
        store=STORE,
    log:
        "logs/release_card.log",
    benchmark:
        "benchmarks/release_card.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/release_card.py"
