# Seed acquisition: fetch_source downloads one source (GitHub tree or Hugging Face dataset, at a
# pinned revision) into the shared download cache and verifies it (seed sources, and also the
# benchmarks, baseline sets and published release of DOWNLOADS); seeds turns a subset's source
# (or a prepared seeds.<Subset> file) into results/<subset>/seeds.jsonl.
import kodcode.seeds as _seedfiles
from snakemake.logging import logger as _logger

# longest seed or prompt sent to a model; longer ones are dropped and counted (seeds, questions)
MAX_PROMPT_CHARS = config["llm"]["max_prompt_chars"]

# A prepared seed file is known before any job: one that is missing, empty or holds no valid
# seed stops the run here, in one line, not after the jobs scheduled before its subset's.
for _s in SEED_SUBSETS:
    if _s in config["seeds"]:
        _problem = _seedfiles.prepared_file_problem(
            config["seeds"][_s], _subsets.spec(_s), MAX_PROMPT_CHARS
        )
        if _problem:
            _logger.error(_problem)
            raise SystemExit(1)

# downloads need the network, which cluster compute nodes often lack
rule fetch_source:
    output:
        manifest=os.path.join(CACHE_DIR, "{key}", "manifest.json"),
    params:
        unit=lambda wc: DOWNLOADS[wc.key].to_dict(),
    wildcard_constraints:
        key="|".join(re.escape(k) for k in sorted(DOWNLOADS)) or "(?!)",
    log:
        "logs/sources/{key}.log",
    benchmark:
        "benchmarks/sources/{key}.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/fetch_source.py"


rule seeds:
    wildcard_constraints:
        subset=any_of(SEED_SUBSETS),  # Prefill has no seeds
    input:
        lambda wc: _sources.seed_inputs(config, wc.subset),
    output:
        seeds="results/{subset}/seeds.jsonl",
        stats="results/{subset}/seeds.stats.json",
    params:
        plan=lambda wc: _sources.seed_plan(config, wc.subset),
        max_prompt_chars=MAX_PROMPT_CHARS,
    log:
        "logs/{subset}/seeds.log",
    benchmark:
        "benchmarks/{subset}/seeds.tsv"
    conda:
        "../envs/workflow.yaml"
    script:
        "../scripts/seeds.py"
