# KodCode workflow: seeds -> questions -> solutions+tests (verified) -> style/SFT -> release.
from snakemake.utils import min_version, validate

from kodcode.snake import on_start

min_version("9.0")


configfile: "config/config.yaml"


validate(config, schema="config/schema.yaml")


include: "rules/common.smk"
include: "rules/seeds.smk"
include: "rules/questions.smk"
include: "rules/llm.smk"
include: "rules/dedup.smk"
include: "rules/solutions.smk"
include: "rules/verify.smk"
include: "rules/style.smk"
include: "rules/sft.smk"
include: "rules/release.smk"


onstart:
    on_start(workflow)


rule all:
    input:
        release_targets(),
    default_target: True
