import kodcode.tags as _tags

# Step 1: seeds -> question prompts -> (LLM) -> extracted questions. The Filter subset makes
# no questions: its seed questions are tagged by an LLM and kept by a rule (tag_* rules below);
# both paths end in results/{subset}/questions/extracted.jsonl.
GENERATED_SUBSETS = "|".join(s for s in SUBSETS if _subsets.spec(s).mode != "filter") or "^$"
TAGGED_SUBSETS = "|".join(s for s in SUBSETS if _subsets.spec(s).mode == "filter") or "^$"
FILTER = config.get("filter", {})
if TAGGED_SUBSETS != "^$":  # a tagger without a known chat format stops here, naming the key
    _tags.chat_format_for(config["models"]["tagger"]["model"], FILTER.get("chat_format"))


rule question_requests:
    wildcard_constraints:
        subset=GENERATED_SUBSETS,
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
        subset=GENERATED_SUBSETS,
    input:
        shards("results/{subset}/questions/responses_{shard}.jsonl"),
    output:
        questions="results/{subset}/questions/extracted.jsonl",
        stats="results/{subset}/questions/extracted.stats.json",
    params:
        cfg=lambda wc: {"first_line_only": config.get("prefill", {}).get("first_line_only", True)},
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


rule tag_requests:
    wildcard_constraints:
        subset=TAGGED_SUBSETS,
    input:
        "results/{subset}/seeds.jsonl",
    output:
        requests=shards("results/{subset}/tags/requests_{shard}.jsonl"),
        stats="results/{subset}/tags/requests.stats.json",
    params:
        cfg=lambda wc: {
            "model": config["models"]["tagger"],
            "seed": config["seed"],
            "chat_format": FILTER.get("chat_format"),
            "n_prompts": config["questions"].get(wc.subset, {}).get("n_prompts"),
            "templates": {
                task: template(t.template) for task, t in _tags.TAG_TASKS.items()
            },
            "max_prompt_chars": MAX_PROMPT_CHARS,
        },
    log:
        "logs/{subset}/tag_requests.log",
    benchmark:
        "benchmarks/{subset}/tag_requests.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/tag_requests.py"


rule select_tagged:
    wildcard_constraints:
        subset=TAGGED_SUBSETS,
    input:
        seeds="results/{subset}/seeds.jsonl",
        responses=shards("results/{subset}/tags/responses_{shard}.jsonl"),
    output:
        questions="results/{subset}/questions/extracted.jsonl",
        stats="results/{subset}/questions/extracted.stats.json",
    params:
        cfg={
            "filter": {k: FILTER.get(k) for k in ("keep_quality", "keep_categories")},
            "tagger": config["models"]["tagger"]["model"],
        },
    group:
        chain_group("questions")
    log:
        "logs/{subset}/select_tagged.log",
    benchmark:
        "benchmarks/{subset}/select_tagged.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/select_tagged.py"
