# KodCode workflow: seeds -> questions -> solutions+tests (verified) -> style/SFT -> release.
from snakemake.utils import min_version

from kodcode import config as _config
from kodcode.snake import on_start, on_success

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


# --config values typed as the schema wants them, then checked with defaults filled; every
# problem is one line and the run stops before any job (kodcode.config)
_checked = _config.check(config, workflow.config_settings.config, _config.load_schema(workflow.basedir))
if _checked.problems:
    _config.stop(_checked.problems)
config.clear()
config.update(_checked.config)  # in place: Snakemake holds this very dict


# One rule file per step, each with its stage module and unit tests of the same name
# (rules/X.smk -> kodcode/stages/X.py -> tests/unit/stages/test_X.py; the map and its
# exceptions: kodcode/stages/__init__.py). In the order of the chain: a rule names the outputs
# of rules defined before it (rules/common.smk).
include: "rules/common.smk"
include: "rules/seeds.smk"
include: "rules/generate.smk"
include: "rules/questions.smk"
include: "rules/tagging.smk"
include: "rules/dedup.smk"
include: "rules/solutions.smk"
include: "rules/verify.smk"
include: "rules/style.smk"
include: "rules/online_judge.smk"
include: "rules/sft.smk"
include: "rules/decontam.smk"
include: "rules/release.smk"
include: "rules/exports.smk"
include: "rules/paper.smk"


onstart:
    on_start(workflow)


onsuccess:
    on_success(workflow)


rule all:
    input:
        release_targets(),
        paper_targets(),
        EXPORT_TARGETS,
    default_target: True
