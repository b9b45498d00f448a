# Semantic dedup of one subset's questions (kodcode.stages.dedup): near duplicates by embedding
# cosine similarity (dedup.model) at or above dedup.threshold; one of each group is kept.
rule dedup:
    input:
        # made by extract_questions, or by select_tagged for Filter (the same file)
        rules.extract_questions.output.questions,
    output:
        questions="results/{subset}/questions/deduped.jsonl",
        stats="results/{subset}/questions/deduped.stats.json",
    params:
        cfg=config["dedup"],
    resources:
        mem_mb=4000,
    group:
        chain_group("questions")
    log:
        "logs/{subset}/dedup.log",
    benchmark:
        "benchmarks/{subset}/dedup.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/dedup.py"
