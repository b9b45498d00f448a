"""Step 1 for the Filter subset (rules/tagging.smk): seed questions -> tagging requests; tag
answers -> the questions kept by the configured rule, in the format every other subset's
extraction (stages.questions) writes."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from ..jsonl import read_jsonl, write_jsonl
from ..sources.errors import InputError
from ..tags import (CATEGORY_NAMES, QUALITY_LEVELS, STOP, TAG_TASKS, TASK_CATEGORIES, KeepRule, TagDrop,
                    chat_format_for, label_list, parse_tag_answer, prefilled_chat_prompt)
from ..templates import render
from .common import PromptLimit, make_request, read_many, write_sharded_requests, write_stats

STAGE = "tags"


def tag_item(subset: str, row: int, task: str) -> str:
    return f"{subset}_{row:08d}_{task}"


def tag_prompt(task: str, template: str, question: str) -> str:
    """The user message asking the tagger for one label of ``question``."""
    values = {"question": question.strip()}
    values["levels" if task == "quality" else "categories"] = label_list(
        QUALITY_LEVELS if task == "quality" else TASK_CATEGORIES)
    return render(template, **values)


def tag_requests(subset: str, seeds_file: str, out_paths: Sequence[str], out_stats: str,
                 params: dict[str, Any]) -> list[str]:
    """Two requests per seed question (quality, category), raw prompts prefilled with ``{``.

    ``params``: ``model`` (models.tagger), ``seed``, ``templates`` ({task: text}),
    ``chat_format`` (null: from the model id), ``n_prompts`` (null: every seed),
    ``max_prompt_chars`` (llm.max_prompt_chars; absent: no limit): a question whose prompts are
    longer is dropped and counted, never sent. Returns the console notes (questions dropped)."""
    model = params["model"]
    fmt = chat_format_for(model["model"], params["chat_format"])
    seed = int(params["seed"])
    seeds = read_jsonl(seeds_file)
    n = params["n_prompts"]
    seeds = seeds[: int(n)] if n else seeds
    limit = PromptLimit(params.get("max_prompt_chars"))
    rows = []
    for i, s in enumerate(seeds):
        pair = []
        for task in TAG_TASKS:
            item = tag_item(subset, i, task)
            prompt = prefilled_chat_prompt(fmt, tag_prompt(task, params["templates"][task], s["question"]))
            req = make_request(STAGE, item, 0, model, seed, prompt=prompt, stop=[STOP],
                               stop_token_ids=fmt.stop_token_ids)
            pair.append((req, {"prompt_id": f"{i:08d}", "row_id": i, "seed_ids": [str(s["id"])], "mode": "filter",
                               "task": task}))
        if limit.admits(*(req for req, _ in pair)):  # both tags or neither: one alone is never a kept question
            rows += pair
    if seeds and not rows:
        raise InputError(f"llm.max_prompt_chars: every one of the {len(seeds)} {subset} tagging prompts is longer "
                         f"than {limit.max_chars} characters; raise the limit or shorten the seeds in {seeds_file}")
    counts = write_sharded_requests(rows, out_paths)
    write_stats(out_stats, "tag_requests", subset=subset, questions=len(seeds), prompts=len(rows),
                per_shard=counts, chat_format=fmt.name, model=model["model"], **limit.stats())
    note = limit.note(f"{subset} tagging prompts", len(seeds), out_stats)
    return [note] if note else []


def select_tagged(subset: str, seeds_file: str, response_paths: Sequence[str], out_questions: str,
                  out_stats: str, params: dict[str, Any]) -> None:
    """Read every question's tags strictly and keep those the rule accepts.

    A question is dropped as unparseable when either answer is (the quality answer's reason
    is counted first), else by the rule. ``params``: ``filter`` (the config section) and
    ``tagger`` (model id, recorded with the tags)."""
    rule = KeepRule.from_config(params["filter"])
    seeds = read_jsonl(seeds_file)
    responses = read_many(response_paths)
    answers: dict[int, dict[str, dict[str, Any]]] = {}
    for r in responses:
        answers.setdefault(int(r["meta"]["row_id"]), {})[r["meta"]["task"]] = r
    kept, unparseable, rule_drops = [], Counter(), Counter()
    quality, category = Counter(), Counter()
    for row in sorted(answers):
        meta = next(iter(answers[row].values()))["meta"]  # both answers of a row share it
        if row >= len(seeds) or [str(seeds[row]["id"])] != meta["seed_ids"]:
            raise ValueError(f"{seeds_file}: row {row} is not the seed its tags were asked for; "
                             "the seeds changed after tagging (rerun the tag_requests rule)")
        tags: dict[str, Any] = {}
        try:
            for task in TAG_TASKS:
                r = answers[row].get(task)
                if r is None:
                    raise TagDrop(f"{task}: no answer")
                try:
                    tags.update(parse_tag_answer(task, r.get("text"), r.get("finish_reason"), r.get("error")))
                except TagDrop as drop:
                    raise TagDrop(f"{task}: {drop.reason}") from None
        except TagDrop as drop:
            unparseable[drop.reason] += 1
            continue
        quality[tags["input_quality"]] += 1
        category[tags["task_category"]] += 1
        why = rule.drop_reason(tags)
        if why:
            rule_drops[why] += 1
            continue
        kept.append({
            "question_id": f"{subset}_{row:08d}_I",
            "subset": subset,
            "question": seeds[row]["question"].strip(),
            "metadata": {**{k: meta[k] for k in ("prompt_id", "row_id", "seed_ids", "mode")},
                         "tags": {**tags, "tagger": params["tagger"]}},
        })
    write_jsonl(out_questions, kept)
    tagged = sum(quality.values())
    write_stats(out_stats, "extract", subset=subset, responses=len(responses), questions=len(answers),
                tagged=tagged, extracted=len(kept),
                unparseable=unparseable, rule_drops=rule_drops,
                dropped=Counter({**{f"unparseable {k}": v for k, v in unparseable.items()},
                                 **{f"rule: {k}": v for k, v in rule_drops.items()}}),
                quality=quality,
                category=Counter({c: category[c] for c in CATEGORY_NAMES if category[c]}),
                keep_quality=list(rule.quality), keep_categories=list(rule.categories))
