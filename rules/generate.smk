# The one LLM rule for every stage (kodcode.stages.generate): requests in, responses out, the
# response store in between. Each stage writes its requests where this rule reads them
# (rules.generate.input.requests) and reads its answers from rules.generate.output.responses,
# both with {stage} filled in (fill and shards, rules/common.smk).
from snakemake.settings.types import DeploymentMethod

# Under --sdm apptainer, name the image a rule's jobs run in (dry runs included; docs/containers.md)
show_container = lambda rule: (
    logger.info(f"rule {rule.rule.name} runs in container {rule.rule.container_img}")
    if DeploymentMethod.APPTAINER in workflow.deployment_settings.deployment_method
    else None
)


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
    # under --sdm apptainer (docs/containers.md): vLLM's image on GPU nodes, else the test env's
    container:
        config["containers"]["vllm"] if BACKEND == "vllm" else config["containers"]["test_env"]
    script:
        "../scripts/generate.py"


show_container(rules.generate)
