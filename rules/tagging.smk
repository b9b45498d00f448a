# Step 1 for the Filter subset (kodcode.stages.tagging): its seed questions are rated by an LLM
# (quality and task category, through rule generate) and kept by the filter section's rule,
# written where the other subsets' extracted questions go (rules/questions.smk).
import kodcode.tags as _tags

if TAGGED_SUBSETS:  # a tagger without a known chat format stops here, naming the key
    _tags.chat_format_for(config["models"]["tagger"]["model"], config["filter"]["chat_format"])


rule tag_requests:
    wildcard_constraints:
        subset=any_of(TAGGED_SUBSETS),
    input:
        rules.seeds.output.seeds,
    output:
        requests=shards(rules.generate.input.requests, stage="tags"),
        stats="results/{subset}/tags/requests.stats.json",
    params:
        cfg=lambda wc: {
            "model": config["models"]["tagger"],
            "seed": config["seed"],
            "chat_format": config["filter"]["chat_format"],
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
        subset=any_of(TAGGED_SUBSETS),
    input:
        seeds=rules.seeds.output.seeds,
        responses=shards(rules.generate.output.responses, stage="tags"),
    output:
        # where extract_questions writes every other subset's questions, for rule dedup
        questions=rules.extract_questions.output.questions,
        stats=rules.extract_questions.output.stats,
    params:
        cfg={
            "filter": {k: config["filter"][k] for k in ("keep_quality", "keep_categories")},
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
