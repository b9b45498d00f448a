# The one LLM rule for every stage: requests in, responses out, the store in between.
rule generate:
    input:
        "results/{subset}/{stage}/requests_{shard}.jsonl",
    output:
        responses="results/{subset}/{stage}/responses_{shard}.jsonl",
        stats="results/{subset}/{stage}/responses_{shard}.stats.json",
    # The backend and the store are read from config in the script, not declared as params:
    # responses are content-addressed, so switching backend must not rerun anything.
    resources:
        # a vLLM engine wants a whole GPU; other backends only wait on the network
        gpu=(
            config["llm"].get("vllm", {}).get("tensor_parallel_size", 1)
            if config["llm"]["backend"] == "vllm"
            else 0
        ),
    log:
        "logs/{subset}/generate_{stage}_{shard}.log",
    benchmark:
        "benchmarks/{subset}/generate_{stage}_{shard}.tsv"
    conda:
        "../envs/vllm.yaml" if config["llm"]["backend"] == "vllm" else "../envs/workflow.yaml"
    script:
        "../scripts/generate.py"
