rule release_subset:
    input:
        triplets=shards("results/{subset}/style/triplets_{shard}.jsonl"),
        labeled=shards("results/{subset}/sft/labeled_{shard}.jsonl"),
        decontam=lambda wc: decontam_files(wc.subset),
    output:
        v1="results/release/KodCode-V1/{subset}.parquet",
        sft="results/release/KodCode-V1-SFT-R1/{subset}.parquet",
    params:
        cfg=lambda wc: {
            "version": config["version"],
            "trial_tag": config["verify"]["trial_tag"],
            "attempts": config["verify"]["attempts"],
            # only when on: a run without decontamination keeps its params (and its release)
            **({"decontam_report": decontam_files(wc.subset)[0], "decontam_action": DECONTAM_ACTION}
               if DECONTAM_ON else {}),
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
        stats=[f for s in SUBSETS for f in subset_stats(s) + decontam_files(s, "report.stats.json")],
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
        stats={s: subset_stats(s) + decontam_files(s, "report.stats.json") for s in SUBSETS},
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
