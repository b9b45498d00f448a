"""Stage functions: each reads its input files, calls the pure logic, writes its outputs.

Every rule's script is one keyword-argument call into this package, to the function named as
the rule. Parameters arrive as plain dicts from the rule's ``params`` (so Snakemake reruns a
rule when they change), holding config sections as ``kodcode.config`` filled them in: the
defaults are written in ``config/schema.yaml`` only, and a stage reads its keys directly.

A rule file, its stage module and its unit tests share a name, one hop each:

=======================  ==============================  ===================================
rule file                stage module                    unit tests
=======================  ==============================  ===================================
rules/seeds.smk          kodcode.sources.build [1]       tests/unit/test_sources*.py
rules/generate.smk       kodcode.stages.generate         tests/unit/stages/test_generate.py
rules/questions.smk      kodcode.stages.questions        tests/unit/stages/test_questions.py
rules/tagging.smk        kodcode.stages.tagging          tests/unit/stages/test_tagging.py
rules/dedup.smk          kodcode.stages.dedup            tests/unit/stages/test_dedup.py
rules/solutions.smk      kodcode.stages.solutions        tests/unit/stages/test_solutions.py
rules/verify.smk         kodcode.stages.verify           tests/unit/stages/test_verify.py
rules/style.smk          kodcode.stages.style            tests/unit/stages/test_style.py
rules/online_judge.smk   kodcode.stages.online_judge     tests/unit/stages/test_online_judge.py
rules/sft.smk            kodcode.stages.sft              tests/unit/stages/test_sft.py
rules/decontam.smk       kodcode.decontam.stage [2]      tests/unit/test_decontam.py
rules/release.smk        kodcode.stages.release          tests/unit/stages/test_release.py
rules/exports.smk        kodcode.exports.* [2]           tests/unit/test_exports_*.py
rules/paper.smk          kodcode.paper.* [2]             tests/unit/test_paper*.py
rules/common.smk         (no rules) [3]                  tests/reliability/test_stats_sidecars.py
=======================  ==============================  ===================================

[1] Seeds come from the seed-source package ``kodcode.sources`` (fetching, caching, converting
    the public sources); its ``build`` module is the stage of rules fetch_source and seeds.
[2] Decontamination, the exports and the paper figures are packages of their own (benchmark
    loaders and search; one module per export format; one module per figure); their rule scripts call them directly, with no thin
    module here in between.
[3] Shared definitions of the rule files: subsets, shards, job groups, path helpers and the
    list of stats sidecars the data-flow table reads, checked by the test named. Helpers
    shared by the stage modules are in ``kodcode.stages.common``.

The pure logic the stages call has its own modules and tests (``kodcode.parse``,
``kodcode.verify``, ``kodcode.dedup``, ``kodcode.extract``, ...: ``tests/unit/test_<module>.py``).
"""
