rule seeds:
    input:
        lambda wc: config["seeds"][wc.subset],
    output:
        seeds="results/{subset}/seeds.jsonl",
        stats="results/{subset}/seeds.stats.json",
    log:
        "logs/{subset}/seeds.log",
    benchmark:
        "benchmarks/{subset}/seeds.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/seeds.py"
