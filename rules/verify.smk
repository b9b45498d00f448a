# Executing attempts (Step 2 solutions and Step 3 SFT answers) and verifying questions
# (kodcode.stages.verify).
rule execute:
    input:
        # one stage's attempts: parse_solutions' or sft_attempts' (looked up when the DAG is
        # built, as sft_attempts is defined in a later rule file)
        attempts=lambda wc: {
            "solutions": rules.parse_solutions.output.attempts,
            "sft": rules.sft_attempts.output.attempts,
        }[wc.exec_stage],
    output:
        verdicts="results/{subset}/{exec_stage}/verdicts_{shard}.jsonl",
        stats="results/{subset}/{exec_stage}/verdicts_{shard}.stats.json",
    params:
        # engine and limits decide verdicts; the worker count does not (it is `threads`)
        cfg={k: v for k, v in config["executor"].items() if k != "workers"},
    threads: config["executor"]["workers"]
    resources:
        # one warm pytest worker per thread, each with its preloaded libraries and an attempt
        mem_mb=lambda wc, threads: 1024 + 1024 * threads,
    group:
        execute_group
    log:
        "logs/{subset}/execute_{exec_stage}_{shard}.log",
    benchmark:
        "benchmarks/{subset}/execute_{exec_stage}_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    # the test environment's image, used under --sdm apptainer (docs/containers.md)
    container:
        config["containers"]["test_env"]
    script:
        "../scripts/execute.py"


show_container(rules.execute)


rule verify:
    input:
        questions=rules.dedup.output.questions,
        attempts=rules.parse_solutions.output.attempts,
        verdicts=fill(rules.execute.output.verdicts, exec_stage="solutions"),
    output:
        verified="results/{subset}/solutions/verified_{shard}.jsonl",
        stats="results/{subset}/solutions/verified_{shard}.stats.json",
    params:
        cfg={
            "attempts": config["verify"]["attempts"],
            "trial_tag": config["verify"]["trial_tag"],
        },
    group:
        chain_group("verify")
    log:
        "logs/{subset}/verify_{shard}.log",
    benchmark:
        "benchmarks/{subset}/verify_{shard}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/verify.py"


rule pass_at_k:
    input:
        shards(rules.execute.output.verdicts, exec_stage="solutions"),
    output:
        pass_at_k="results/{subset}/solutions/pass_at_k.json",
    params:
        cfg={"ks": config["verify"]["pass_at_k"], "attempts": config["verify"]["attempts"]},
    log:
        "logs/{subset}/pass_at_k.log",
    benchmark:
        "benchmarks/{subset}/pass_at_k.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/pass_at_k.py"
