"""The Filter subset's tagging: strict reading of tag answers, the keep rule, the tagging
requests (raw prompts prefilled with "{"), and the stage end to end on authored answers."""

import json
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from kodcode.hashing import derive_seed
from kodcode.jsonl import read_json, read_jsonl, write_jsonl
from kodcode.llm.chat_templates import CHAT_TEMPLATES
from kodcode.llm.request import Request
from kodcode.stages.generate import generate
from kodcode.stages.release import FLOW_COLUMNS, _sum_stats, flow_row
from kodcode.stages.tagging import select_tagged, tag_item, tag_requests
from kodcode.tags import (CATEGORY_NAMES, QUALITY_NAMES, TAG_TASKS, KeepRule, TagDrop, chat_format_for,
                          parse_tag_answer, prefilled_chat_prompt)
from kodcode.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
TAGGER = {"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "temperature": 0.0, "top_p": 1.0, "max_tokens": 1024}
# the filter section as the schema fills it in (checked by test_schema_lists_the_same_labels_and_fills_defaults)
PAPER_FILTER = {"keep_quality": ["good", "excellent"], "keep_categories": ["Algorithm Implementation", "Function Generation"]}


# ------------------------------------------------------------------ parsing answers


@pytest.mark.parametrize("text", [
    ' "explanation": "Clear input and output.", "input_quality": "good"',  # what a backend returns (stop excluded)
    '\n  "explanation": "Clear input and output.",\n  "input_quality": "good"\n',
    ' "explanation": "Clear input and output.", "input_quality": "good"}',  # a backend that keeps the stop string
    ' "explanation": "Clear input and output.", "input_quality": "  GOOD "',  # case and spacing are not values
])
def test_good_quality_answers(text):
    assert parse_tag_answer("quality", text) == {"input_quality": "good",
                                                 "quality_explanation": "Clear input and output."}


def test_good_category_answer_keeps_known_secondary_labels_only():
    text = ('"task_category": "algorithm implementation", '
            '"other_task_categories": ["Function Generation", "Made Up", "Algorithm Implementation", "Testing", "Testing"]')
    assert parse_tag_answer("category", text) == {"task_category": "Algorithm Implementation",
                                                  "other_task_category": ["Function Generation", "Testing"]}
    assert parse_tag_answer("category", '"task_category": "Others"')["other_task_category"] == []


@pytest.mark.parametrize("task, text, finish, error, reason", [
    ("quality", ' "explanation": "x", "input_quality": "great"', "stop", None, "unknown input_quality"),
    ("quality", ' "explanation": "x", "input_quality": 4', "stop", None, "unknown input_quality"),
    ("quality", ' "explanation": "x"', "stop", None, "no input_quality"),
    ("quality", ' "explanation": ["x"], "input_quality": "good"', "stop", None, "explanation not a string"),
    ("category", '"task_category": "Web Scraping", "other_task_categories": []', "stop", None, "unknown task_category"),
    ("category", '"task_category": "Testing", "other_task_categories": "Debugging"', "stop", None,
     "other_task_categories not a list"),
    # garbage: prose, a repeated brace, a cut-off string (a "}" in the explanation stops early), duplicate keys
    ("quality", "I would rate this query as good.", "stop", None, "not JSON"),
    ("quality", '{"explanation": "x", "input_quality": "good"', "stop", None, "not JSON"),
    ("quality", ' "explanation": "uses a dict like {', "stop", None, "not JSON"),
    ("quality", ' "input_quality": "poor", "input_quality": "good"', "stop", None, "not JSON"),
    ("quality", "", "stop", None, "no input_quality"),  # "{}"
    ("quality", ' "explanation": "a very long', "length", None, "truncated"),
    ("quality", None, None, "HTTP 400", "generation failed"),
])
def test_bad_and_garbage_answers_are_dropped_with_a_reason(task, text, finish, error, reason):
    with pytest.raises(TagDrop) as e:
        parse_tag_answer(task, text, finish, error)
    assert e.value.reason == reason


# ------------------------------------------------------------------ the keep rule


def _validated(cfg: dict) -> dict:
    validate(cfg, schema=str(ROOT / "config" / "schema.yaml"))  # fills in the defaults
    return cfg


def test_default_rule_is_the_papers():
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg.pop("filter")
    rule = KeepRule.from_config(_validated(cfg)["filter"])
    tags = lambda q, c: {"input_quality": q, "task_category": c}  # noqa: E731
    assert rule.drop_reason(tags("good", "Function Generation")) is None
    assert rule.drop_reason(tags("excellent", "Algorithm Implementation")) is None
    assert rule.drop_reason(tags("average", "Algorithm Implementation")) == "quality average"
    assert rule.drop_reason(tags("poor", "Debugging")) == "quality poor"  # quality is checked first
    assert rule.drop_reason(tags("excellent", "Class Design")) == "category Class Design"


def test_configured_rule_and_unknown_labels():
    rule = KeepRule.from_config({"keep_quality": ["average", "good", "excellent"], "keep_categories": ["Class Design"]})
    assert rule.drop_reason({"input_quality": "average", "task_category": "Class Design"}) is None
    assert rule.drop_reason({"input_quality": "good", "task_category": "Function Generation"}) == \
        "category Function Generation"
    with pytest.raises(ValueError, match=r"^filter\.keep_quality: unknown label\(s\) \['great'\]"):
        KeepRule.from_config({"keep_quality": ["great"], "keep_categories": ["Others"]})
    with pytest.raises(ValueError, match=r"^filter\.keep_categories"):
        KeepRule.from_config({"keep_quality": ["good"], "keep_categories": ["Function generation"]})


def test_schema_lists_the_same_labels_and_fills_defaults():
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    filt = schema["properties"]["filter"]["properties"]
    assert tuple(filt["keep_quality"]["items"]["enum"]) == QUALITY_NAMES
    assert tuple(filt["keep_categories"]["items"]["enum"]) == CATEGORY_NAMES
    assert set(filt["chat_format"]["enum"]) - {None} == set(CHAT_TEMPLATES)
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    del cfg["models"]["tagger"]
    cfg.pop("filter")
    validate(cfg, schema=str(ROOT / "config" / "schema.yaml"))
    assert {k: cfg["models"]["tagger"][k] for k in TAGGER} == TAGGER
    assert {k: cfg["filter"][k] for k in PAPER_FILTER} == PAPER_FILTER


# ------------------------------------------------------------------ the prefilled prompt


def test_chat_format_from_model_id_or_config():
    assert chat_format_for("meta-llama/Meta-Llama-3.1-8B-Instruct").name == "llama-3.1"
    assert chat_format_for("meta-llama/Meta-Llama-3-8B-Instruct").name == "llama-3"
    assert chat_format_for("Qwen/Qwen2.5-7B-Instruct").name == "qwen2.5"
    assert chat_format_for("my-tagger", "llama-3").name == "llama-3"
    with pytest.raises(ValueError, match=r"^models\.tagger\.model: no chat format known for 'my-tagger'"):
        chat_format_for("my-tagger")
    with pytest.raises(ValueError, match=r"^filter\.chat_format"):
        chat_format_for("my-tagger", "mistral")


def test_prefilled_prompt_is_the_chat_template_up_to_the_answer():
    p = prefilled_chat_prompt(CHAT_TEMPLATES["llama-3.1"], "  Rate this.\n")
    assert p == ("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                 "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nRate this.<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n{")
    assert not p.startswith("<|begin_of_text|>")  # tokenizers add BOS to raw prompts once


# ------------------------------------------------------------------ requests


SEEDS = [
    {"id": "m1", "question": "Write a python function to return the k largest values of a list in descending order."},
    {"id": "m2", "question": "fix my code pls"},
    {"id": "m3", "question": "Implement Dijkstra's shortest path algorithm on an adjacency-list graph in Python."},
    {"id": "m4", "question": "How do I deploy a Flask app with Docker?"},
    {"id": "m5", "question": "Write a Python function that merges two sorted lists into one sorted list."},
]


def _requests(tmp_path, seed=7, **extra):
    seeds_file = tmp_path / "seeds.jsonl"
    write_jsonl(seeds_file, SEEDS)
    outs = [str(tmp_path / f"requests_{i:03d}.jsonl") for i in range(2)]
    params = {"model": TAGGER, "seed": seed, "chat_format": None, "n_prompts": None,
              "templates": {t: load_template(s.template) for t, s in TAG_TASKS.items()}, **extra}
    tag_requests("Filter", str(seeds_file), outs, str(tmp_path / "requests.stats.json"), params)
    return seeds_file, outs, sorted((r for o in outs for r in read_jsonl(o)), key=lambda r: r["request"]["item_id"])


def test_requests_two_per_seed_stable_ids_and_seeds(tmp_path):
    _, outs, rows = _requests(tmp_path)
    ids = [r["request"]["item_id"] for r in rows]
    assert ids == sorted(tag_item("Filter", i, t) for i in range(5) for t in ("quality", "category"))
    assert ids[:2] == ["Filter_00000000_category", "Filter_00000000_quality"]
    for row in rows:
        req = Request.from_dict(row["request"])
        assert req.kind == "completion" and req.prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n{")
        assert req.stop == ("}",) and req.stop_token_ids == (128001, 128008, 128009)
        assert (req.model, req.temperature, req.max_tokens, req.stage) == (TAGGER["model"], 0.0, 1024, "tags")
        assert req.seed == derive_seed(7, "tags", req.item_id, 0)
        i = row["meta"]["row_id"]
        assert SEEDS[i]["question"] in req.prompt and row["meta"]["seed_ids"] == [SEEDS[i]["id"]]
        assert ("Function Generation" in req.prompt) == (row["meta"]["task"] == "category")
    assert all(read_jsonl(o) for o in outs)  # both shards used
    again = tmp_path / "again"
    again.mkdir()
    assert _requests(again)[2] == rows  # same input, same requests
    other = tmp_path / "other"
    other.mkdir()
    keys = {Request.from_dict(r["request"]).key for r in rows}
    assert not keys & {Request.from_dict(r["request"]).key for r in _requests(other, seed=8)[2]}
    stats = read_json(tmp_path / "requests.stats.json")
    assert (stats["stage"], stats["questions"], stats["prompts"], stats["chat_format"]) == ("tag_requests", 5, 10,
                                                                                           "llama-3.1")


def test_n_prompts_limits_the_seeds_tagged(tmp_path):
    _, _, rows = _requests(tmp_path, n_prompts=2)
    assert {r["meta"]["row_id"] for r in rows} == {0, 1}


# ------------------------------------------------------------------ end to end on authored answers


def _q(quality, explanation="Fine."):
    return f' "explanation": "{explanation}", "input_quality": "{quality}"'


def _c(category, *others):
    return f' "task_category": "{category}", "other_task_categories": {json.dumps(list(others))}'


AUTHORED = {  # stage/item/sample -> the text after the prefilled "{", as a backend returns it
    "tags/Filter_00000000_quality/0": _q("good", "States input, output and order."),
    "tags/Filter_00000000_category/0": _c("Function Generation", "Algorithm Implementation"),
    "tags/Filter_00000001_quality/0": _q("very poor", "No code and no error message."),
    "tags/Filter_00000001_category/0": _c("Debugging"),
    "tags/Filter_00000002_quality/0": _q("excellent"),
    "tags/Filter_00000002_category/0": "The category is Algorithm Implementation.",  # garbage
    "tags/Filter_00000003_quality/0": _q("good"),
    "tags/Filter_00000003_category/0": _c("DevOps"),
    "tags/Filter_00000004_quality/0": _q("Excellent"),
    "tags/Filter_00000004_category/0": _c("algorithm implementation"),
}


def test_filter_stage_end_to_end(tmp_path):
    seeds_file, outs, _ = _requests(tmp_path)
    authored = tmp_path / "responses.yaml"
    authored.write_text(yaml.safe_dump({"responses": AUTHORED}))
    llm = {"backend": "authored", "authored_responses": str(authored)}
    responses = []
    for i, req_file in enumerate(outs):  # the generate rule, once per shard, through the response store
        responses.append(str(tmp_path / f"responses_{i:03d}.jsonl"))
        generate("tags", "Filter", req_file, responses[-1], str(tmp_path / f"responses_{i:03d}.stats.json"), llm,
                 str(tmp_path / "store"))
    out = tmp_path / "extracted.jsonl"
    params = {"filter": PAPER_FILTER, "tagger": TAGGER["model"]}
    select_tagged("Filter", str(seeds_file), responses, str(out), str(tmp_path / "extracted.stats.json"), params)

    kept = read_jsonl(out)
    assert [k["question_id"] for k in kept] == ["Filter_00000000_I", "Filter_00000004_I"]
    first = kept[0]
    assert set(first) == {"question_id", "subset", "question", "metadata"}  # what extract_questions writes
    assert first["subset"] == "Filter" and first["question"] == SEEDS[0]["question"]
    assert first["metadata"] == {
        "prompt_id": "00000000", "row_id": 0, "seed_ids": ["m1"], "mode": "filter",
        "tags": {"input_quality": "good", "quality_explanation": "States input, output and order.",
                 "task_category": "Function Generation", "other_task_category": ["Algorithm Implementation"],
                 "tagger": TAGGER["model"]}}
    assert kept[1]["metadata"]["tags"]["input_quality"] == "excellent"  # canonical spelling recorded

    stats = read_json(tmp_path / "extracted.stats.json")
    assert (stats["responses"], stats["questions"], stats["tagged"], stats["extracted"]) == (10, 5, 4, 2)
    assert stats["unparseable"] == {"category: not JSON": 1}
    assert stats["rule_drops"] == {"quality very poor": 1, "category DevOps": 1}

    # the data-flow row, from the sidecars the release card reads
    files = [tmp_path / "requests.stats.json", tmp_path / "extracted.stats.json"] + \
            [tmp_path / f"responses_{i:03d}.stats.json" for i in range(2)]
    row = flow_row("Filter", _sum_stats([str(f) for f in files]))
    assert set(row) == set(FLOW_COLUMNS)
    assert (row["prompts"], row["question_responses"], row["tagged"], row["extracted"]) == (10, 10, 4, 2)
    assert row["tag_unparseable"] == "category: not JSON: 1"
    assert row["tag_rule_drops"] == "category DevOps: 1; quality very poor: 1"
    assert row["llm_requests"] == 10 and row["llm_generated"] == 10

    # a rerun is served from the store and changes nothing
    generate("tags", "Filter", outs[0], str(tmp_path / "again.jsonl"), str(tmp_path / "again.stats.json"), llm,
             str(tmp_path / "store"))
    assert read_json(tmp_path / "again.stats.json")["cache_hits"] == len(read_jsonl(outs[0]))


def test_changed_seeds_after_tagging_are_refused(tmp_path):
    seeds_file, outs, rows = _requests(tmp_path)
    responses = tmp_path / "responses.jsonl"
    write_jsonl(responses, [{"item_id": r["request"]["item_id"], "sample": 0, "text": _q("good"),
                             "finish_reason": "stop", "error": None, "meta": r["meta"]} for r in rows])
    write_jsonl(seeds_file, list(reversed(SEEDS)))
    with pytest.raises(ValueError, match="seeds changed after tagging"):
        select_tagged("Filter", str(seeds_file), [str(responses)], str(tmp_path / "q.jsonl"), str(tmp_path / "s.json"),
                      {"filter": PAPER_FILTER, "tagger": "m"})
