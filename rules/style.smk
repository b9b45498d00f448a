# Step 3, first half (kodcode.stages.style): each verified question rewritten into the complete
# style, and the triplets of both styles.
rule style_requests:
    input:
        rules.verify.output.verified,
    output:
        requests=fill(rules.generate.input.requests, stage="style"),
        stats="results/{subset}/style/requests_{shard}.stats.json",
    params:
        cfg={
            "model": config["models"]["style"],
            "seed": config["seed"],
            "template": template("style_convert.txt"),
        },
    group:
        chain_group("verify")
    log:
        "logs/{subset}/style_requests_{shard}.log",
    benchmark:
        "benchmarks/{subset}/style_requests_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/style_requests.py"


rule triplets:
    input:
        verified=rules.verify.output.verified,
        responses=fill(rules.generate.output.responses, stage="style"),
    output:
        triplets="results/{subset}/style/triplets_{shard}.jsonl",
        stats="results/{subset}/style/triplets_{shard}.stats.json",
    group:
        chain_group("style")
    log:
        "logs/{subset}/triplets_{shard}.log",
    benchmark:
        "benchmarks/{subset}/triplets_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/triplets.py"
