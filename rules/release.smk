# The release (kodcode.stages.release): each subset's KodCode-V1 and KodCode-V1-SFT-R1 parquet
# files, then the card, the data-flow table (from every job's stats sidecar, listed from the
# rules by subset_stats in rules/common.smk) and the provenance record.


rule release_subset:
    input:
        triplets=shards(rules.triplets.output.triplets),
        labeled=shards(rules.sft_label.output.labeled),
        decontam=lambda wc: decontam_files(wc.subset),
        # the stdin/stdout rows (rules/online_judge.smk), for the subsets online_judge covers
        online_judge=lambda wc: (expand(rules.verify_online_judge.output.rows, subset=wc.subset, shard=SHARDS)
                                 if wc.subset in OJ_SUBSETS else []),
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
        # looked up when the DAG is built, after every rule file is read
        stats=lambda wc: [f for s in SUBSETS for f in subset_stats(s)],
        pass_at_k=expand(rules.pass_at_k.output.pass_at_k, subset=SUBSETS),
        v1=expand(rules.release_subset.output.v1, subset=SUBSETS),
        sft=expand(rules.release_subset.output.sft, subset=SUBSETS),
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
        stats=lambda wc: {s: subset_stats(s) for s in SUBSETS},
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
