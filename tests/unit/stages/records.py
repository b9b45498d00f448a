"""Recorded model answers as the rows rule generate writes (responses_<shard>.jsonl), and
upstream KodCode's records (../shared/fixtures/upstream_demo) in the shapes the stages read.
Tests that use the upstream ones ask for the ``upstream`` fixture, which skips without them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from kodcode.jsonl import write_jsonl

ROOT = Path(__file__).resolve().parents[3]
PAPER_RUN = ROOT / "tests" / "data" / "paper_run" / "results"  # a demo run: 3 attempts, 1 shard
UPSTREAM = ROOT.parent / "shared" / "fixtures" / "upstream_demo"
# upstream's test_result strings -> the executor's verdicts
UPSTREAM_VERDICT = {"Pass": "pass", "Fail": "fail", "Fail - Timed Out": "timeout"}


def response_row(stage: str, item_id: str, sample: int, text: str | None, error: str | None = None,
                 meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One answer as rule generate writes it (the fields the stages read)."""
    return {"stage": stage, "item_id": item_id, "sample": sample, "key": f"{stage}/{item_id}/{sample}",
            "text": text, "finish_reason": "stop" if error is None else None, "error": error,
            "meta": dict(meta or {})}


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> str:
    write_jsonl(path, list(rows))
    return str(path)


def authored_responses(authored: Mapping[str, str], stage: str, subset: str) -> list[dict[str, Any]]:
    """The demo's authored answers of one stage and subset (keys ``stage/item/sample``), as rows."""
    out = []
    for key in sorted(authored):
        st, item, sample = key.split("/")
        if st == stage and item.startswith(f"{subset}_"):
            out.append(response_row(stage, item, int(sample), authored[key]))
    return out


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def upstream_samples(pattern: str) -> list[tuple[int, dict[str, Any]]]:
    """(sample, record) of upstream files ``..._results0`` .. ``_results2``: one file per sample."""
    files = sorted(UPSTREAM.glob(pattern))
    assert files, f"no upstream file matches {pattern}"
    return [(int(f.stem[-1]), r) for f in files for r in _jsonl(f)]


def upstream_questions() -> list[dict[str, Any]]:
    """Upstream's 100 generated Leetcode questions, as rows of questions/deduped.jsonl."""
    out = {}
    for _, r in upstream_samples("KodCode_questions2sv_leetcode_*_sanitized_prepared_results?.jsonl"):
        m = r["metadata"]
        qid = f"Leetcode_{m['prompt_id']}_I"
        out[qid] = {"question_id": qid, "subset": "Leetcode", "question": m["instruction"],
                    "metadata": {"prompt_id": m["prompt_id"], "row_id": m["row_id"], "seed_ids": m["seed_ids"],
                                 "mode": "questions"}}
    return [out[q] for q in sorted(out)]


def upstream_solution_answers() -> list[dict[str, Any]]:
    """Upstream's three solution+test answers per question (a small open model's: many wrong)."""
    return [response_row("solutions", f"Leetcode_{r['metadata']['prompt_id']}_I", sample, r["messages"][-1]["content"])
            for sample, r in upstream_samples("KodCode_questions2sv_leetcode_*_sanitized_prepared_results?.jsonl")]


def upstream_trials() -> dict[tuple[str, int], dict[str, Any]]:
    """(question id, sample) -> the trial upstream executed, with its verdict and coverage."""
    out = {}
    for r in _jsonl(UPSTREAM / "leetcode_self_verification_trials.jsonl"):
        out[(f"Leetcode_{r['question_id']}_I", int(r["trial"].rsplit("_", 1)[1]))] = r
    return out


def upstream_verified() -> dict[str, dict[str, Any]]:
    """Question id -> upstream's verified record (trials, pass sequence, chosen trial) and its
    style conversion answer (``messages``)."""
    rows = _jsonl(next(UPSTREAM.glob("Verified_KodCode_leetcode_*_i2c_prepared_results.jsonl")))
    return {f"Leetcode_{r['metadata']['metadata']['prompt_id']}_I": r for r in rows}


def upstream_verdicts(attempts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Upstream's verdict of each attempt, as rule execute writes them; an attempt upstream did
    not run (it could not parse it either) is an ``error``."""
    trials = upstream_trials()
    out = []
    for a in attempts:
        t = trials.get((a["item_id"], a["sample"]))
        verdict = UPSTREAM_VERDICT[t["upstream_result"]] if t else "error"
        cov = t["upstream_coverage"] if t else None
        out.append({"attempt_id": a["attempt_id"], "item_id": a["item_id"], "sample": a["sample"],
                    "verdict": verdict, "reason": "", "coverage": float(cov.rstrip("%")) if cov else None})
    return out


def archived_keys() -> set[str]:
    """The request keys the demo's recorded answers (demo/archive.jsonl) answer."""
    return {r["key"] for r in _jsonl(ROOT / "demo" / "archive.jsonl")}


def upstream_verified_file(folder: Path) -> str:
    """Upstream's Step 2 through this workflow's stages (parse_solutions, then verify with
    upstream's verdicts): the 15 verified questions, as verified_<shard>.jsonl."""
    from kodcode.jsonl import read_jsonl
    from kodcode.stages.solutions import parse_solutions
    from kodcode.stages.verify import verify

    parse_solutions(subset="Leetcode", responses_file=write_rows(folder / "solution_responses.jsonl",
                                                                 upstream_solution_answers()),
                    out_attempts=str(folder / "attempts.jsonl"), out_stats=str(folder / "attempts.stats.json"))
    verdicts = write_rows(folder / "verdicts.jsonl", upstream_verdicts(read_jsonl(folder / "attempts.jsonl")))
    verify(subset="Leetcode", in_questions=write_rows(folder / "deduped.jsonl", upstream_questions()),
           attempts_file=str(folder / "attempts.jsonl"), verdicts_file=verdicts,
           out_verified=str(folder / "verified.jsonl"), out_stats=str(folder / "verified.stats.json"),
           params={"attempts": 3, "trial_tag": "qwen2.5", "file_source": "attempts_000.jsonl"})
    return str(folder / "verified.jsonl")


def upstream_style_answers() -> list[dict[str, Any]]:
    """Upstream's style conversion answer (instruct -> complete) for each verified question."""
    return [response_row("style", qid, 0, r["messages"][-1]["content"]) for qid, r in sorted(upstream_verified().items())]


def upstream_sft() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Upstream's 29 SFT questions as triplets (triplets_<shard>.jsonl rows) and the reasoning
    model's three answers to each (``<think>`` ... ``</think>`` then code), as response rows."""
    triplets: dict[str, dict[str, Any]] = {}
    answers = []
    for sample, r in upstream_samples("KodCode_leetcode_*_prepared_results?.jsonl"):
        m = r["metadata"]
        triplets[m["question_id"]] = {"question_id": m["question_id"], "subset": "Leetcode", "style": m["style"],
                                      "question": m["question"], "solution": m["solution"], "test": m["test_code"],
                                      "metadata": m["metadata"]}
        answers.append(response_row("sft", m["question_id"], sample, r["messages"][-1]["content"]))
    return [triplets[q] for q in sorted(triplets)], sorted(answers, key=lambda a: (a["item_id"], a["sample"]))


def demo_question_answers(tmp_path: Path, demo_config: Mapping[str, Any], authored: Mapping[str, str],
                          subset: str) -> str:
    """A subset's question requests as the demo config makes them (seeds from its source copy
    in demo/sources), answered by the authored responses the way rule generate writes them
    (each answer with its request's meta); returns the responses file."""
    import copy

    from kodcode.jsonl import read_jsonl
    from kodcode.sources.build import build_seeds
    from kodcode.sources.spec import seed_plan
    from kodcode.stages.questions import question_requests
    from kodcode.subsets import spec
    from kodcode.templates import load_template

    cfg = copy.deepcopy(demo_config)
    cfg["cache_dir"] = str(tmp_path / "cache")
    seeds = None
    if spec(subset).mode != "prefill":
        cfg["sources"][subset]["path"] = str(ROOT / cfg["sources"][subset]["path"])
        seeds = str(tmp_path / "seeds.jsonl")
        build_seeds(plan=seed_plan(cfg, subset), out_seeds=seeds, out_stats=str(tmp_path / "seeds.stats.json"),
                    max_prompt_chars=cfg["llm"]["max_prompt_chars"])
    prefill = subset == "Prefill"
    question_requests(subset=subset, seeds_file=seeds, out_paths=[str(tmp_path / "requests.jsonl")],
                      out_stats=str(tmp_path / "requests.stats.json"),
                      params={"subset": cfg["questions"].get(subset, {}), "seed": cfg["seed"],
                              "model": cfg["models"]["prefill" if prefill else "question"],
                              "prefill": cfg["prefill"] if prefill else None,
                              "template": None if prefill else load_template(spec(subset).template),
                              "max_prompt_chars": cfg["llm"]["max_prompt_chars"]})
    rows = read_jsonl(tmp_path / "requests.jsonl")
    return write_rows(tmp_path / "responses.jsonl", [
        response_row("questions", r["request"]["item_id"], 0, authored[f"questions/{r['request']['item_id']}/0"],
                     meta=r["meta"]) for r in rows])
