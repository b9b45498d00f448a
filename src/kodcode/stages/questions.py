"""Step 1 (rules/questions.smk): seeds -> question prompts; the model's answers -> extracted
questions. The Filter subset tags its seeds instead (stages.tagging); both write
``questions/extracted.jsonl``, which stages.dedup reads."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Sequence

from ..extract import ExtractionDrop, extract_question, prefill_question
from ..hashing import derive_seed
from ..jsonl import read_jsonl, write_jsonl
from ..sources.errors import InputError
from ..subsets import spec
from ..templates import format_examples, render
from .common import PromptLimit, make_request, read_many, write_sharded_requests, write_stats

STAGE = "questions"


def _seed_groups(subset: str, seeds: list[dict[str, Any]], per_prompt: int, n_prompts: int | None,
                 global_seed: int, seeds_file: str = "seeds") -> list[list[dict[str, Any]]]:
    if per_prompt == 1:
        return [[s] for s in seeds[: n_prompts or len(seeds)]]
    if len(seeds) < per_prompt:
        raise InputError(f"questions.{subset}.seeds_per_prompt: {per_prompt} seeds per prompt, but {seeds_file} "
                         f"holds only {len(seeds)} valid seed{'' if len(seeds) == 1 else 's'}; give more seeds "
                         "or lower seeds_per_prompt")
    n = n_prompts or len(seeds) // per_prompt
    # each prompt draws its own seeds with an RNG seeded from the prompt's index
    return [random.Random(derive_seed(global_seed, subset, "seed-group", i)).sample(seeds, per_prompt) for i in range(n)]


def question_requests(subset: str, seeds_file: str, out_paths: Sequence[str], out_stats: str,
                      params: dict[str, Any]) -> list[str]:
    """One request per question prompt. ``params``: ``subset`` (questions.<Subset>), ``model``
    (models.question, or models.prefill), ``seed``, ``template`` (not for Prefill), ``prefill``
    (the prefill section, Prefill only) and ``max_prompt_chars`` (llm.max_prompt_chars; absent:
    no limit): a longer prompt is dropped and counted, never sent. Config sections arrive as the
    config check filled them in. Returns the console notes (prompts dropped)."""
    sp = spec(subset)
    model = params["model"]
    seed = int(params["seed"])
    limit = PromptLimit(params.get("max_prompt_chars"))
    rows, built = [], 0
    if sp.mode == "prefill":
        from ..llm.magpie import prefill_prompt, stop_strings, stop_token_ids

        pf = params["prefill"]
        openings = pf["openings"]
        for i in range(int(params["subset"]["n_prompts"])):
            item = f"{subset}_{i:08d}"
            opening = openings[i % len(openings)]
            prompt = prefill_prompt(pf["family"], pf["system_prompt"], opening)
            stop = stop_strings(pf["family"], early_stop=bool(pf["first_line_only"]))
            req = make_request(STAGE, item, 0, model, seed, prompt=prompt, stop=stop,
                               stop_token_ids=stop_token_ids(pf["family"]))
            built += 1
            if limit.admits(req):
                rows.append((req, {"prompt_id": f"{i:08d}", "row_id": i, "seed_ids": [], "mode": "prefill",
                                   "opening": opening}))
    elif sp.mode in ("questions", "snippet", "docs"):
        seeds = read_jsonl(seeds_file)
        template = params["template"]
        cfg = params["subset"]
        per_prompt = int(cfg.get("seeds_per_prompt", sp.seeds_per_prompt))
        groups = _seed_groups(subset, seeds, per_prompt, cfg.get("n_prompts"), seed, seeds_file)
        for i, group in enumerate(groups):
            item = f"{subset}_{i:08d}"
            texts = [g[sp.seed_field] for g in group]
            # seed questions are always shown numbered, one or several; code and docs as they are
            examples = format_examples(texts) if sp.mode == "questions" else texts[0].strip()
            req = make_request(STAGE, item, 0, model, seed, user=render(template, examples=examples))
            built += 1
            if limit.admits(req):
                rows.append((req, {"prompt_id": f"{i:08d}", "row_id": i,
                                   "seed_ids": [str(g["id"]) for g in group], "mode": sp.mode}))
    else:
        raise ValueError(f"{subset}: mode {sp.mode!r} makes no question prompts (Filter is tagged: stages.tagging)")
    if built and not rows:
        raise InputError(f"llm.max_prompt_chars: every one of the {built} {subset} question prompts is longer than "
                         f"{limit.max_chars} characters; raise the limit or shorten the seeds in {seeds_file}")
    counts = write_sharded_requests(rows, out_paths)
    write_stats(out_stats, "question_requests", subset=subset, prompts=len(rows), per_shard=counts, **limit.stats())
    note = limit.note(f"{subset} question prompts", built, out_stats)
    return [note] if note else []


def extract_questions(subset: str, response_paths: Sequence[str], out_questions: str, out_stats: str,
                      params: dict[str, Any]) -> None:
    """The question in each answer; an answer without one is dropped and counted by reason.
    ``params``: ``first_line_only`` (prefill.first_line_only; read for Prefill only)."""
    sp = spec(subset)
    kept, dropped = [], Counter()
    responses = sorted(read_many(response_paths), key=lambda r: r["item_id"])
    for r in responses:
        meta = r["meta"]
        try:
            if r.get("error"):
                raise ExtractionDrop("generation failed")
            if sp.mode == "prefill":
                q = prefill_question(meta["opening"], r["text"], bool(params["first_line_only"]))
            else:
                q = extract_question(r["text"], expect_markers=sp.mode in ("snippet", "docs"))
        except ExtractionDrop as drop:
            dropped[drop.reason] += 1
            continue
        kept.append({
            "question_id": f"{r['item_id']}_I",
            "subset": subset,
            "question": q,
            "metadata": {k: meta[k] for k in ("prompt_id", "row_id", "seed_ids", "mode")},
        })
    write_jsonl(out_questions, kept)
    write_stats(out_stats, "extract", subset=subset, responses=len(responses), extracted=len(kept), dropped=dropped)

