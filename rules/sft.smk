rule sft_requests:
    input:
        "results/{subset}/style/triplets_{shard}.jsonl",
    output:
        requests="results/{subset}/sft/requests_{shard}.jsonl",
        stats="results/{subset}/sft/requests_{shard}.stats.json",
    params:
        cfg={
            "model": config["models"]["reasoning"],
            "samples": config.get("sft", {}).get("samples", 3),
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
        triplets="results/{subset}/style/triplets_{shard}.jsonl",
        responses="results/{subset}/sft/responses_{shard}.jsonl",
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
        triplets="results/{subset}/style/triplets_{shard}.jsonl",
        attempts="results/{subset}/sft/attempts_{shard}.jsonl",
        verdicts="results/{subset}/sft/verdicts_{shard}.jsonl",
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
