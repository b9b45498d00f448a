# Step 2, first half (kodcode.stages.solutions): verify.attempts solution+test requests per
# question, and each answer parsed into an attempt for rule execute (rules/verify.smk).
rule solution_requests:
    input:
        rules.dedup.output.questions,
    output:
        requests=shards(rules.generate.input.requests, stage="solutions"),
        stats="results/{subset}/solutions/requests.stats.json",
    params:
        cfg={
            "model": config["models"]["solution"],
            "attempts": config["verify"]["attempts"],
            "seed": config["seed"],
            "template": template("solution_and_tests.txt"),
        },
    group:
        chain_group("questions")
    log:
        "logs/{subset}/solution_requests.log",
    benchmark:
        "benchmarks/{subset}/solution_requests.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/solution_requests.py"


rule parse_solutions:
    input:
        fill(rules.generate.output.responses, stage="solutions"),
    output:
        attempts="results/{subset}/solutions/attempts_{shard}.jsonl",
        stats="results/{subset}/solutions/attempts_{shard}.stats.json",
    group:
        chain_group("verify")
    log:
        "logs/{subset}/parse_solutions_{shard}.log",
    benchmark:
        "benchmarks/{subset}/parse_solutions_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/parse_solutions.py"
