rule dedup:
    input:
        "results/{subset}/questions/extracted.jsonl",
    output:
        questions="results/{subset}/questions/deduped.jsonl",
        stats="results/{subset}/questions/deduped.stats.json",
    params:
        cfg=config["dedup"],
    resources:
        mem_mb=4000,
    log:
        "logs/{subset}/dedup.log",
    benchmark:
        "benchmarks/{subset}/dedup.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/dedup.py"
