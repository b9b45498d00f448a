# The paper's figures and tables (arXiv 2503.02951) from this run: results/paper/, each as
# PNG + PDF (figure), TSV (the numbers plotted) and JSON (summary: paper value vs this run).
# Code: src/kodcode/paper/; what each item is and how it compares: paper/README.md.
from kodcode.paper.targets import OUT_DIR as PAPER_DIR, items as _paper_items
from kodcode.paper.targets import compare_outputs, paper_outputs, paper_targets as _paper_targets

PAPER_CFG = config["paper"]
PAPER_DEMO = config["demo"]

PAPER_ITEMS = _paper_items(DECONTAM_ON)  # Fig. 6 with decontamination on


rule paper_fig2_pass_at_k:
    input:
        expand(rules.pass_at_k.output.pass_at_k, subset=SUBSETS),
    output:
        **paper_outputs("paper_fig2_pass_at_k"),
    params:
        subsets=SUBSETS,
        ks=PAPER_CFG["pass_at_k"],
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig2_pass_at_k.log",
    benchmark:
        "benchmarks/paper/fig2_pass_at_k.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig2.py"


rule paper_fig3_lengths:
    input:
        expand(rules.release_subset.output.v1, subset=SUBSETS),
    output:
        **paper_outputs("paper_fig3_lengths"),
    params:
        subsets=SUBSETS,
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig3_lengths.log",
    benchmark:
        "benchmarks/paper/fig3_lengths.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig3.py"


# Fig. 4's baseline sets (paper.baselines; BASELINES in rules/common.smk), each sampled once
rule paper_baseline:
    input:
        baseline_inputs,
    output:
        questions=f"{PAPER_DIR}/baselines/{{baseline}}.jsonl",
        stats=f"{PAPER_DIR}/baselines/{{baseline}}.stats.json",
    params:
        spec=lambda wc: BASELINES[wc.baseline].to_dict(),
        manifest=lambda wc: _baselines.manifest(config, BASELINES[wc.baseline]),  # None: a local copy
    wildcard_constraints:
        baseline="|".join(re.escape(b) for b in BASELINES) or "(?!)",
    log:
        "logs/paper/baseline_{baseline}.log",
    benchmark:
        "benchmarks/paper/baseline_{baseline}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_baseline.py"


rule paper_fig4_tsne:
    input:
        questions=expand(rules.dedup.output.questions, subset=SUBSETS),
        baselines=expand(rules.paper_baseline.output.questions, baseline=BASELINES),
    output:
        **paper_outputs("paper_fig4_tsne"),
    params:
        subsets=SUBSETS,
        baselines=list(BASELINES),
        model=config["dedup"]["model"],
        batch_size=config["dedup"]["batch_size"],
        seed=config["seed"],
        max_per_group=PAPER_CFG["tsne_max_per_subset"],
        perplexity=PAPER_CFG["tsne_perplexity"],
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig4_tsne.log",
    benchmark:
        "benchmarks/paper/fig4_tsne.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig4.py"


rule paper_fig5_difficulty:
    input:
        expand(rules.execute.output.verdicts, exec_stage="solutions", subset=SUBSETS, shard=SHARDS),
    output:
        **paper_outputs("paper_fig5_difficulty"),
    params:
        verdicts={s: shards(rules.execute.output.verdicts, exec_stage="solutions", subset=s) for s in SUBSETS},
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig5_difficulty.log",
    benchmark:
        "benchmarks/paper/fig5_difficulty.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig5.py"


rule paper_fig6_contamination:
    input:
        [f for s in SUBSETS for f in decontam_files(s)],
    output:
        **paper_outputs("paper_fig6_contamination"),
    params:
        reports={s: decontam_files(s)[0] for s in SUBSETS} if DECONTAM_ON else {},
        threshold=config["decontam"]["threshold"],
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig6_contamination.log",
    benchmark:
        "benchmarks/paper/fig6_contamination.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig6.py"


rule paper_fig7_dataflow:
    input:
        rules.release_card.output.flow,
    output:
        **paper_outputs("paper_fig7_dataflow"),
    params:
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig7_dataflow.log",
    benchmark:
        "benchmarks/paper/fig7_dataflow.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig7.py"


rule paper_fig16_subsets:
    input:
        v1=expand(rules.release_subset.output.v1, subset=SUBSETS),
        sft=expand(rules.release_subset.output.sft, subset=SUBSETS),
    output:
        **paper_outputs("paper_fig16_subsets"),
    params:
        subsets=SUBSETS,
        demo=PAPER_DEMO,
    log:
        "logs/paper/fig16_subsets.log",
    benchmark:
        "benchmarks/paper/fig16_subsets.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_fig16.py"


rule paper_readme:
    input:
        [it.path("json") for it in PAPER_ITEMS],
    output:
        report(f"{PAPER_DIR}/README.md", caption="../report/paper_readme.rst", category="Paper"),
    params:
        rules=[it.rule for it in PAPER_ITEMS],
        demo=PAPER_DEMO,
        run_name=config["run_name"],
    log:
        "logs/paper/readme.log",
    benchmark:
        "benchmarks/paper/readme.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/paper_readme.py"


if PAPER_PUBLISHED is not None:
    if PAPER_PUBLISHED.unit is None:
        PAPER_PUBLISHED_INPUT = {"published": PAPER_PUBLISHED_FILES}  # every file: editing one reruns
    else:
        PAPER_PUBLISHED_INPUT = {"manifest": _sources.manifest_path(config, PAPER_PUBLISHED.unit)}

    rule paper_compare:
        input:
            release=expand(rules.release_subset.output.v1, subset=SUBSETS),
            **PAPER_PUBLISHED_INPUT,
        output:
            **compare_outputs(),
        params:
            # for the summary: the run's release folder, and where the published one comes from
            labels={"run": os.path.dirname(rules.release_subset.output.v1), "published": PAPER_PUBLISHED.text},
            demo=PAPER_DEMO,
        log:
            "logs/paper/compare.log",
        benchmark:
            "benchmarks/paper/compare.tsv"
        conda:
            "../envs/workflow.yaml"
        script:
            "../scripts/paper_compare.py"

    localrules:
        paper_compare,
