rule question_requests:
    input:
        question_seeds,
    output:
        requests=shards("results/{subset}/questions/requests_{shard}.jsonl"),
        stats="results/{subset}/questions/requests.stats.json",
    params:
        cfg=lambda wc: {
            "subset": config["questions"].get(wc.subset, {}),
            "model": config["models"]["prefill" if wc.subset == "Prefill" else "question"],
            "prefill": config.get("prefill"),
            "seed": config["seed"],
            "template": template(_subsets.spec(wc.subset).template)
            if wc.subset != "Prefill"
            else None,
        },
    log:
        "logs/{subset}/question_requests.log",
    benchmark:
        "benchmarks/{subset}/question_requests.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/question_requests.py"


rule extract_questions:
    input:
        shards("results/{subset}/questions/responses_{shard}.jsonl"),
    output:
        questions="results/{subset}/questions/extracted.jsonl",
        stats="results/{subset}/questions/extracted.stats.json",
    params:
        cfg=lambda wc: {"first_line_only": config.get("prefill", {}).get("first_line_only", True)},
    log:
        "logs/{subset}/extract_questions.log",
    benchmark:
        "benchmarks/{subset}/extract_questions.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/extract_questions.py"
