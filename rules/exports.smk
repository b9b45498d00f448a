# Training-ready exports of the release (kodcode.exports), each in its own folder of
# results/exports/: Light-RL (a seeded RL sample, reference solutions re-run through the
# executor and its verdict store), verl (RL parquet rows + the reward function), LLaMA-Factory
# (sharegpt JSON + dataset_info.json) and TRL (messages JSON lines). In the final target when
# exports.enabled is true; `kodcode publish --exports` uploads them beside the release.
from kodcode.exports.light_rl import LightRLConfig as _LightRL, check_config as _light_rl_problems
from kodcode.exports.sft_filter import SftFilter as _SftFilter, check_bounds as _sft_bounds
from kodcode.hashing import derive_seed as _derive_seed

EXPORTS = config["exports"]
# values the schema cannot check (test_size below n, max_chars above min_chars): before any job
_export_problems = _light_rl_problems(_LightRL.from_params({**EXPORTS["light_rl"], "seed": 0})) + _sft_bounds(
    _SftFilter.from_params(EXPORTS["sft_filter"])
)
if _export_problems:
    _stop(_export_problems)


# all local: they reformat the release, and Light-RL's re-run of reference solutions finds their
# verdicts in the store (verify ran the same solution and tests), so a cluster job would only wait
localrules:
    export_light_rl,
    export_verl,
    export_llamafactory,
    export_trl,


rule export_light_rl:
    input:
        v1=lambda wc: expand(rules.release_subset.output.v1, subset=SUBSETS),
    output:
        train="results/exports/light-rl/train.parquet",
        test="results/exports/light-rl/test.parquet",
        summary="results/exports/light-rl/summary.json",
    params:
        cfg={
            "light_rl": {
                **EXPORTS["light_rl"],
                # null: derived from the run's seed, so a new seed draws a new sample
                "seed": (
                    EXPORTS["light_rl"]["seed"]
                    if EXPORTS["light_rl"]["seed"] is not None
                    else _derive_seed(config["seed"], "exports", "light_rl")
                ),
            },
            # engine and limits decide verdicts (as in rule execute): the same ones find Step 2's
            "executor": {k: v for k, v in config["executor"].items() if k != "workers"},
        },
    threads: config["executor"]["workers"]
    resources:
        mem_mb=lambda wc, threads: 1024 + 1024 * threads,
    log:
        "logs/exports/light_rl.log",
    benchmark:
        "benchmarks/exports/light_rl.tsv"
    conda:
        "../envs/workflow.yaml"
    container:
        config["containers"]["test_env"]
    script:
        "../scripts/export_light_rl.py"


rule export_verl:
    input:
        train=rules.export_light_rl.output.train,
        test=rules.export_light_rl.output.test,
    output:
        train="results/exports/verl/train.parquet",
        test="results/exports/verl/test.parquet",
        reward="results/exports/verl/kodcode_reward.py",
    params:
        cfg=EXPORTS["verl"],
    log:
        "logs/exports/verl.log",
    benchmark:
        "benchmarks/exports/verl.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/export_verl.py"


rule export_llamafactory:
    input:
        sft=lambda wc: expand(rules.release_subset.output.sft, subset=SUBSETS),
    output:
        data="results/exports/llamafactory/kodcode_sft_r1.json",
        info="results/exports/llamafactory/dataset_info.json",
        summary="results/exports/llamafactory/summary.json",
    params:
        cfg={"sft_filter": EXPORTS["sft_filter"]},
    log:
        "logs/exports/llamafactory.log",
    benchmark:
        "benchmarks/exports/llamafactory.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/export_llamafactory.py"


rule export_trl:
    input:
        sft=lambda wc: expand(rules.release_subset.output.sft, subset=SUBSETS),
    output:
        data="results/exports/trl/train.jsonl",
        summary="results/exports/trl/summary.json",
    params:
        cfg={"sft_filter": EXPORTS["sft_filter"]},
    log:
        "logs/exports/trl.log",
    benchmark:
        "benchmarks/exports/trl.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/export_trl.py"


# the final target's share (Snakefile, rule all): every export's files when exports.enabled
EXPORT_TARGETS = (
    [
        *rules.export_light_rl.output,
        *rules.export_verl.output,
        *rules.export_llamafactory.output,
        *rules.export_trl.output,
    ]
    if EXPORTS["enabled"]
    else []
)
