# Step 3, second half (kodcode.stages.sft): reasoning-model answers for every triplet, their
# code run by rule execute (rules/verify.smk), and each triplet labelled by which answers pass.
rule sft_requests:
    input:
        rules.triplets.output.triplets,
    output:
        requests=fill(rules.generate.input.requests, stage="sft"),
        stats="results/{subset}/sft/requests_{shard}.stats.json",
    params:
        cfg={
            "model": config["models"]["reasoning"],
            "samples": config["sft"]["samples"],
            "seed": config["seed"],
        },
    group:
        chain_group("style")
    log:
        "logs/{subset}/sft_requests_{shard}.log",
    benchmark:
        "benchmarks/{subset}/sft_requests_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/sft_requests.py"


rule sft_attempts:
    input:
        triplets=rules.triplets.output.triplets,
        responses=fill(rules.generate.output.responses, stage="sft"),
    output:
        attempts="results/{subset}/sft/attempts_{shard}.jsonl",
        stats="results/{subset}/sft/attempts_{shard}.stats.json",
    group:
        chain_group("label")
    log:
        "logs/{subset}/sft_attempts_{shard}.log",
    benchmark:
        "benchmarks/{subset}/sft_attempts_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/sft_attempts.py"


rule sft_label:
    input:
        triplets=rules.triplets.output.triplets,
        attempts=rules.sft_attempts.output.attempts,
        verdicts=fill(rules.execute.output.verdicts, exec_stage="sft"),
    output:
        labeled="results/{subset}/sft/labeled_{shard}.jsonl",
        stats="results/{subset}/sft/labeled_{shard}.stats.json",
    log:
        "logs/{subset}/sft_label_{shard}.log",
    benchmark:
        "benchmarks/{subset}/sft_label_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/sft_label.py"
