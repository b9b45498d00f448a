"""rules/release.smk (kodcode.stages.release): each subset's KodCode-V1 and SFT parquet files, and
the card, data-flow table and provenance. Real inputs: the demo's Leetcode subset run stage by
stage in-process on its source copy and authored answers (demo/), checked against the demo run
recorded in tests/data/paper_run (its deduplicated questions, verdicts, pass@k, decontamination
report, KodCode-V1 parquet file and data-flow table)."""

from __future__ import annotations

import copy
import csv

import pyarrow.parquet as pq
import pytest

from kodcode.hashing import content_hash
from kodcode.jsonl import read_json, read_jsonl
from kodcode.sources.build import build_seeds
from kodcode.sources.spec import seed_plan
from kodcode.stages.dedup import dedup
from kodcode.stages.generate import generate
from kodcode.stages.questions import extract_questions, question_requests
from kodcode.stages.release import FLOW_COLUMNS, SFT_COLUMNS, V1_COLUMNS, release_card, release_subset
from kodcode.stages.sft import sft_attempts, sft_label, sft_requests
from kodcode.stages.solutions import parse_solutions, solution_requests
from kodcode.stages.style import style_requests, triplets
from kodcode.stages.verify import execute, pass_at_k, verify
from kodcode.subsets import spec
from kodcode.templates import load_template

from .records import PAPER_RUN, ROOT, write_rows

S = "Leetcode"  # seeds, a near-duplicate, an unparseable attempt, a failed style conversion


@pytest.fixture(scope="module")
def run(tmp_path_factory, demo_config) -> dict:
    """The demo's Leetcode subset through every stage up to the release, as its rules call them."""
    from kodcode.executor.engines import bwrap_problem

    if bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {bwrap_problem()}")
    d = tmp_path_factory.mktemp("leetcode")
    cfg = copy.deepcopy(demo_config)
    cfg["cache_dir"] = str(d / "cache")
    cfg["sources"][S]["path"] = str(ROOT / cfg["sources"][S]["path"])
    llm = {**cfg["llm"], "backend": "authored", "authored_responses": str(ROOT / "demo" / "responses")}
    store = str(d / "store")
    seed, models = cfg["seed"], cfg["models"]
    f = lambda name: str(d / name)  # noqa: E731

    def answers(stage):
        generate(stage=stage, subset=S, requests_file=f(f"{stage}_requests.jsonl"),
                 out_responses=f(f"{stage}_responses.jsonl"), out_stats=f(f"{stage}_responses.stats.json"),
                 llm_cfg=llm, store_root=store)
        return f(f"{stage}_responses.jsonl")

    build_seeds(plan=seed_plan(cfg, S), out_seeds=f("seeds.jsonl"), out_stats=f("seeds.stats.json"),
                max_prompt_chars=cfg["llm"]["max_prompt_chars"])
    question_requests(subset=S, seeds_file=f("seeds.jsonl"), out_paths=[f("questions_requests.jsonl")],
                      out_stats=f("questions_requests.stats.json"),
                      params={"subset": cfg["questions"][S], "model": models["question"], "prefill": None, "seed": seed,
                              "template": load_template(spec(S).template),
                              "max_prompt_chars": cfg["llm"]["max_prompt_chars"]})
    extract_questions(subset=S, response_paths=[answers("questions")], out_questions=f("extracted.jsonl"),
                      out_stats=f("extracted.stats.json"), params={})
    dedup(subset=S, in_questions=f("extracted.jsonl"), out_questions=f("deduped.jsonl"), out_stats=f("deduped.stats.json"),
          params=cfg["dedup"])
    solution_requests(subset=S, in_questions=f("deduped.jsonl"), out_paths=[f("solutions_requests.jsonl")],
                      out_stats=f("solutions_requests.stats.json"),
                      params={"model": models["solution"], "attempts": cfg["verify"]["attempts"], "seed": seed,
                              "template": load_template("solution_and_tests.txt")})
    parse_solutions(subset=S, responses_file=answers("solutions"), out_attempts=f("attempts_000.jsonl"),
                    out_stats=f("attempts.stats.json"))
    executor = {**{k: v for k, v in cfg["executor"].items() if k != "workers"}, "workers": 1}
    execute(subset=S, stage="solutions", attempts_file=f("attempts_000.jsonl"), out_verdicts=f("solutions_verdicts.jsonl"),
            out_stats=f("solutions_verdicts.stats.json"), params=executor, store_root=store)
    verify(subset=S, in_questions=f("deduped.jsonl"), attempts_file=f("attempts_000.jsonl"),
           verdicts_file=f("solutions_verdicts.jsonl"), out_verified=f("verified.jsonl"), out_stats=f("verified.stats.json"),
           params={"attempts": cfg["verify"]["attempts"], "trial_tag": cfg["verify"]["trial_tag"],
                   "file_source": f"results/{S}/solutions/attempts_000.jsonl"})  # as the recorded run's trials say
    style_requests(subset=S, verified_file=f("verified.jsonl"), out_requests=f("style_requests.jsonl"),
                   out_stats=f("style_requests.stats.json"),
                   params={"model": models["style"], "seed": seed, "template": load_template("style_convert.txt")})
    triplets(subset=S, verified_file=f("verified.jsonl"), style_responses=answers("style"),
             out_triplets=f("triplets.jsonl"), out_stats=f("triplets.stats.json"))
    sft_requests(subset=S, triplets_file=f("triplets.jsonl"), out_requests=f("sft_requests.jsonl"),
                 out_stats=f("sft_requests.stats.json"),
                 params={"model": models["reasoning"], "samples": cfg["sft"]["samples"], "seed": seed})
    sft_attempts(subset=S, triplets_file=f("triplets.jsonl"), responses_file=answers("sft"),
                 out_attempts=f("sft_attempts.jsonl"), out_stats=f("sft_attempts.stats.json"))
    execute(subset=S, stage="sft", attempts_file=f("sft_attempts.jsonl"), out_verdicts=f("sft_verdicts.jsonl"),
            out_stats=f("sft_verdicts.stats.json"), params=executor, store_root=store)
    sft_label(subset=S, triplets_file=f("triplets.jsonl"), attempts_file=f("sft_attempts.jsonl"),
              verdicts_file=f("sft_verdicts.jsonl"), out_labeled=f("labeled.jsonl"), out_stats=f("labeled.stats.json"))
    pass_at_k(subset=S, verdict_files=[f("solutions_verdicts.jsonl")], out_json=f("pass_at_k.json"),
              params={"ks": cfg["verify"]["pass_at_k"], "attempts": cfg["verify"]["attempts"]})
    release_subset(subset=S, triplet_files=[f("triplets.jsonl")], labeled_files=[f("labeled.jsonl")],
                   out_v1=f("release/KodCode-V1/Leetcode.parquet"), out_sft=f("release/KodCode-V1-SFT-R1/Leetcode.parquet"),
                   params={"version": cfg["version"], "trial_tag": cfg["verify"]["trial_tag"],
                           "attempts": cfg["verify"]["attempts"],
                           "decontam_report": str(PAPER_RUN / S / "decontam" / "report.jsonl"),
                           "decontam_action": cfg["decontam"]["action"]})
    return {"dir": d, "config": demo_config, "store": store}


def test_the_stages_reproduce_the_recorded_demo_run(run):
    d = run["dir"]
    assert read_jsonl(d / "deduped.jsonl") == read_jsonl(PAPER_RUN / S / "questions" / "deduped.jsonl")
    keep = ("attempt_id", "verdict", "coverage", "passed", "failed")
    assert [{k: v[k] for k in keep} for v in read_jsonl(d / "solutions_verdicts.jsonl")] == \
        [{k: v[k] for k in keep} for v in read_jsonl(PAPER_RUN / S / "solutions" / "verdicts_000.jsonl")]
    assert read_json(d / "pass_at_k.json") == read_json(PAPER_RUN / S / "solutions" / "pass_at_k.json")


def test_release_subset_writes_the_recorded_kodcode_v1_file_byte_for_byte(run):
    ours = run["dir"] / "release" / "KodCode-V1" / "Leetcode.parquet"
    assert ours.read_bytes() == (PAPER_RUN / "release" / "KodCode-V1" / "Leetcode.parquet").read_bytes()
    assert pq.read_schema(ours).names == V1_COLUMNS


def test_the_sft_file_holds_every_labelled_triplet_with_its_r1_verdicts(run):
    d = run["dir"]
    table = pq.read_table(d / "release" / "KodCode-V1-SFT-R1" / "Leetcode.parquet")
    labeled = {r["question_id"]: r for r in read_jsonl(d / "labeled.jsonl")}
    assert table.column_names == SFT_COLUMNS and table.num_rows == len(labeled) == 5
    for row in table.to_pylist():
        src = labeled[row["question_id"]]
        assert (row["r1_pass_sequence"], row["r1_correctness"], row["version"]) == (
            src["r1_pass_sequence"], src["r1_correctness"], "v1.0")
        assert row["conversations"][0] == {"from": "user", "value": src["question"]}


def test_release_card_reproduces_the_recorded_data_flow_row(run, tmp_path):
    d = run["dir"]
    stats = sorted(str(p) for p in d.glob("*.stats.json"))
    release = d / "release"
    release_card(subsets=[S], stats_files={S: stats}, pass_at_k_files={S: str(d / "pass_at_k.json")},
                 v1_files={S: str(release / "KodCode-V1" / "Leetcode.parquet")},
                 sft_files={S: str(release / "KodCode-V1-SFT-R1" / "Leetcode.parquet")},
                 out_card=str(release / "README.md"), out_flow=str(release / "dataflow.tsv"),
                 out_provenance=str(release / "provenance.json"), config=run["config"], store_root=run["store"])
    (ours,) = csv.DictReader((release / "dataflow.tsv").open(), delimiter="\t")
    assert list(ours) == FLOW_COLUMNS
    with (PAPER_RUN / "release" / "dataflow.tsv").open() as fh:
        recorded = next(r for r in csv.DictReader(fh, delimiter="\t") if r["subset"] == S)
    assert {k: ours[k] for k in recorded} == recorded  # an older table: every column it has
    assert (ours["v1_rows"], ours["sft_rows"], ours["contaminated"]) == ("5", "5", "0")
    card = (release / "README.md").read_text()
    assert "> **Demo data.**" in card and "| Leetcode | 5 | 5 | 2 | 1 | 0 |" in card
    assert "path: KodCode-V1/Leetcode.parquet" in card
    assert "Benchmark decontamination against humaneval" in card and "is dropped (both rows)" in card
    prov = read_json(release / "provenance.json")
    assert prov["config_hash"] == content_hash(run["config"])[:16] and prov["config"] == run["config"]
    assert prov["store_keys"]["responses"] == int(recorded["llm_requests"])


def test_an_empty_release_stops_naming_where_records_were_dropped(tmp_path):
    empty = write_rows(tmp_path / "triplets.jsonl", [])
    with pytest.raises(RuntimeError, match=r"Leetcode: no verified question survived.*results/Leetcode/\*/\*\.stats\.json"):
        release_subset(subset=S, triplet_files=[empty], labeled_files=[empty], out_v1=str(tmp_path / "v1.parquet"),
                       out_sft=str(tmp_path / "sft.parquet"), params={"version": "v1.0", "trial_tag": "t", "attempts": 3})
