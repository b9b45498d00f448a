# Stdin/stdout (online-judge) questions, the KodCode V1.1 addition (kodcode.stages.online_judge):
# each verified question tagged through rule generate (stage oj_tags); for a "yes",
# verify.attempts requests (stage online_judge) for the question in stdin/stdout form, a program
# and input/output cases; each program run on its cases by the executor's stdin/stdout mode (the
# verdict store of rule execute), and the verify stage's bookkeeping. release_subset adds the
# rows to the KodCode-V1 files. Off (online_judge.enabled false), no subset matches these rules.
OJ = config["online_judge"]
OJ_SUBSETS = [s for s in SUBSETS if OJ["enabled"] and (OJ["subsets"] is None or s in OJ["subsets"])]


rule oj_tag_requests:
    wildcard_constraints:
        subset=any_of(OJ_SUBSETS),
    input:
        rules.verify.output.verified,
    output:
        requests=fill(rules.generate.input.requests, stage="oj_tags"),
        stats="results/{subset}/oj_tags/requests_{shard}.stats.json",
    params:
        cfg={
            "model": config["models"]["style"],
            "seed": config["seed"],
            "template": template("online_judge_tag.txt"),
        },
    group:
        chain_group("online_judge")
    log:
        "logs/{subset}/oj_tag_requests_{shard}.log",
    benchmark:
        "benchmarks/{subset}/oj_tag_requests_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/oj_tag_requests.py"


rule online_judge_requests:
    wildcard_constraints:
        subset=any_of(OJ_SUBSETS),
    input:
        verified=rules.verify.output.verified,
        tags=fill(rules.generate.output.responses, stage="oj_tags"),
    output:
        requests=fill(rules.generate.input.requests, stage="online_judge"),
        stats="results/{subset}/online_judge/requests_{shard}.stats.json",
    params:
        cfg={
            "model": config["models"]["solution"],
            "attempts": config["verify"]["attempts"],
            "seed": config["seed"],
            "template": template("online_judge_convert.txt"),
        },
    group:
        chain_group("online_judge")
    log:
        "logs/{subset}/online_judge_requests_{shard}.log",
    benchmark:
        "benchmarks/{subset}/online_judge_requests_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/online_judge_requests.py"


rule parse_online_judge:
    wildcard_constraints:
        subset=any_of(OJ_SUBSETS),
    input:
        fill(rules.generate.output.responses, stage="online_judge"),
    output:
        attempts="results/{subset}/online_judge/attempts_{shard}.jsonl",
        stats="results/{subset}/online_judge/attempts_{shard}.stats.json",
    group:
        chain_group("online_judge")
    log:
        "logs/{subset}/parse_online_judge_{shard}.log",
    benchmark:
        "benchmarks/{subset}/parse_online_judge_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/parse_online_judge.py"


# rule execute's work for the stdio attempts (kodcode.stages.verify.execute, its verdict store)
rule execute_online_judge:
    wildcard_constraints:
        subset=any_of(OJ_SUBSETS),
    input:
        attempts=rules.parse_online_judge.output.attempts,
    output:
        verdicts="results/{subset}/online_judge/verdicts_{shard}.jsonl",
        stats="results/{subset}/online_judge/verdicts_{shard}.stats.json",
    params:
        cfg={k: v for k, v in config["executor"].items() if k != "workers"},
    threads: config["executor"]["workers"]
    resources:
        mem_mb=lambda wc, threads: 1024 + 1024 * threads,
    group:
        chain_group("online_judge")
    log:
        "logs/{subset}/execute_online_judge_{shard}.log",
    benchmark:
        "benchmarks/{subset}/execute_online_judge_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    container:
        config["containers"]["test_env"]
    script:
        "../scripts/execute_online_judge.py"


show_container(rules.execute_online_judge)


rule verify_online_judge:
    wildcard_constraints:
        subset=any_of(OJ_SUBSETS),
    input:
        verified=rules.verify.output.verified,
        attempts=rules.parse_online_judge.output.attempts,
        verdicts=rules.execute_online_judge.output.verdicts,
    output:
        rows="results/{subset}/online_judge/verified_{shard}.jsonl",
        stats="results/{subset}/online_judge/verified_{shard}.stats.json",
    params:
        cfg={
            "attempts": config["verify"]["attempts"],
            "trial_tag": config["verify"]["trial_tag"],
            "version": OJ["version"],
        },
    group:
        chain_group("online_judge")
    log:
        "logs/{subset}/verify_online_judge_{shard}.log",
    benchmark:
        "benchmarks/{subset}/verify_online_judge_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/verify_online_judge.py"
