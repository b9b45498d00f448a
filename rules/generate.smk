# The one LLM rule for every stage (kodcode.stages.generate): requests in, responses out, the
# response store in between. Each stage writes its requests where this rule reads them
# (rules.generate.input.requests) and reads its answers from rules.generate.output.responses,
# both with {stage} filled in (fill and shards, rules/common.smk).
if BACKEND == "openai":

    localrules:
        generate,


rule generate:
    input:
        requests="results/{subset}/{stage}/requests_{shard}.jsonl",
    output:
        responses="results/{subset}/{stage}/responses_{shard}.jsonl",
        stats="results/{subset}/{stage}/responses_{shard}.stats.json",
    # The backend and the store are read from config in the script, not declared as params:
    # responses are content-addressed, so switching backend must not rerun anything.
    # a vLLM engine wants whole GPUs and host memory for the weights; other backends only
    # wait on the network or read an archive
    threads: 4 if BACKEND == "vllm" else 1
    resources:
        gpu=config["llm"]["vllm"]["tensor_parallel_size"] if BACKEND == "vllm" else 0,
        mem_mb=32000 if BACKEND == "vllm" else 1000,
    group:
        generate_group
    log:
        "logs/{subset}/generate_{stage}_{shard}.log",
    benchmark:
        "benchmarks/{subset}/generate_{stage}_{shard}.tsv"
    conda:
        "../envs/vllm.yaml" if BACKEND == "vllm" else "../envs/workflow.yaml"
    script:
        "../scripts/generate.py"
