# Seed acquisition: fetch_source downloads one source (GitHub tree or Hugging Face dataset, at a
# pinned revision) into the shared download cache and verifies it; seeds turns a subset's
# source (or a prepared seeds.<Subset> file) into results/<subset>/seeds.jsonl.
SEED_SUBSETS = [s for s in SUBSETS if _subsets.spec(s).mode != "prefill"]
FETCH_UNITS = _sources.fetch_units(config, SEED_SUBSETS)
CACHE_DIR = _sources.cache_dir(config)

# downloads need the network, which cluster compute nodes often lack
rule fetch_source:
    output:
        manifest=os.path.join(CACHE_DIR, "{key}", "manifest.json"),
    params:
        unit=lambda wc: FETCH_UNITS[wc.key].to_dict(),
    wildcard_constraints:
        key="|".join(re.escape(k) for k in sorted(FETCH_UNITS)) or "(?!)",
    log:
        "logs/sources/{key}.log",
    benchmark:
        "benchmarks/sources/{key}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/fetch_source.py"


rule seeds:
    input:
        lambda wc: _sources.seed_inputs(config, wc.subset),
    output:
        seeds="results/{subset}/seeds.jsonl",
        stats="results/{subset}/seeds.stats.json",
    params:
        plan=lambda wc: _sources.seed_plan(config, wc.subset),
    log:
        "logs/{subset}/seeds.log",
    benchmark:
        "benchmarks/{subset}/seeds.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/seeds.py"
