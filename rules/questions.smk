# Step 1 for every subset but Filter (kodcode.stages.questions): seeds -> question prompts ->
# (rule generate) -> extracted questions. Filter's seed questions are tagged and kept by a rule
# instead (rules/tagging.smk); both paths end in results/{subset}/questions/extracted.jsonl.
PREFILL = config.get("prefill")  # the prefill section: required with the Prefill subset only


rule question_requests:
    wildcard_constraints:
        subset=any_of(GENERATED_SUBSETS),
    input:
        lambda wc: [] if wc.subset == "Prefill" else [rules.seeds.output.seeds],
    output:
        requests=shards(rules.generate.input.requests, stage="questions"),
        stats="results/{subset}/questions/requests.stats.json",
    params:
        # each subset's prompts depend on its own settings only: editing the prefill openings
        # reruns Prefill, not the others
        cfg=lambda wc: {
            "subset": config["questions"].get(wc.subset, {}),
            "model": config["models"]["prefill" if wc.subset == "Prefill" else "question"],
            "prefill": PREFILL if wc.subset == "Prefill" else None,
            "seed": config["seed"],
            "template": template(_subsets.spec(wc.subset).template)
            if wc.subset != "Prefill"
            else None,
            "max_prompt_chars": MAX_PROMPT_CHARS,
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
    wildcard_constraints:
        subset=any_of(GENERATED_SUBSETS),
    input:
        shards(rules.generate.output.responses, stage="questions"),
    output:
        questions="results/{subset}/questions/extracted.jsonl",
        stats="results/{subset}/questions/extracted.stats.json",
    params:
        cfg=lambda wc: {"first_line_only": PREFILL["first_line_only"]} if wc.subset == "Prefill" else {},
    group:
        chain_group("questions")
    log:
        "logs/{subset}/extract_questions.log",
    benchmark:
        "benchmarks/{subset}/extract_questions.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/extract_questions.py"
