"""Question prompts for the subsets the demo does not run: each mode renders its seeds into
the right template, with stable ids, seeds and shards."""

import json

from kodcode.jsonl import read_jsonl
from kodcode.llm.request import Request
from kodcode.stages.questions import prepare_seeds, question_requests
from kodcode.subsets import IMPLEMENTED, spec
from kodcode.templates import load_template

MODEL = {"model": "m", "temperature": 0.7}


def _run(tmp_path, subset, seeds, **cfg):
    raw = tmp_path / f"{subset}.raw.jsonl"
    raw.write_text("".join(json.dumps(s) + "\n" for s in seeds))
    seeds_file = tmp_path / f"{subset}.jsonl"  # as the pipeline does: the seeds rule validates first
    prepare_seeds(subset, str(raw), str(seeds_file), str(tmp_path / "seeds.stats.json"))
    outs = [str(tmp_path / f"{subset}_{i}.jsonl") for i in range(2)]
    params = {"subset": cfg, "model": MODEL, "seed": 7, "prefill": None, "template": load_template(spec(subset).template)}
    question_requests(subset, str(seeds_file), outs, str(tmp_path / "stats.json"), params)
    rows = [r for o in outs for r in read_jsonl(o)]
    return sorted(rows, key=lambda r: r["request"]["item_id"]), outs


def test_docs_prompt_allows_bad_document(tmp_path):
    rows, _ = _run(tmp_path, "Docs", [{"id": "d1", "doc": "itertools.pairwise(iterable): successive pairs."}])
    text = Request.from_dict(rows[0]["request"]).messages[0][1]
    assert "BAD_DOCUMENT" in text and "itertools.pairwise" in text and "<|Question Begin|>" in text
    assert rows[0]["meta"]["seed_ids"] == ["d1"] and rows[0]["request"]["item_id"] == "Docs_00000000"


def test_snippet_prompt_joins_code_blocks(tmp_path):
    rows, _ = _run(tmp_path, "Data_Structure", [{"id": 5, "codes": ["class Stack:\n    pass", "s = Stack()"]}])
    text = Request.from_dict(rows[0]["request"]).messages[0][1]
    assert "class Stack:" in text and "s = Stack()" in text and "<|Analysis Begin|>" in text


def test_multi_seed_prompts_are_deterministic_and_sharded_by_id(tmp_path):
    seeds = [{"id": f"s{i}", "question": f"Question text number {i}."} for i in range(7)]
    rows, outs = _run(tmp_path, "Leetcode", seeds, n_prompts=5, seeds_per_prompt=3)
    again, _ = _run(tmp_path / ".." / tmp_path.name, "Leetcode", seeds, n_prompts=5, seeds_per_prompt=3)
    assert rows == again
    assert len(rows) == 5 and all(len(r["meta"]["seed_ids"]) == 3 for r in rows)
    assert len({tuple(r["meta"]["seed_ids"]) for r in rows}) > 1  # prompts draw different seeds
    text = Request.from_dict(rows[0]["request"]).messages[0][1]
    assert "[Question 1]:" in text and "[Question 3]:" in text
    seeds_used = {r["request"]["seed"] for r in rows}
    assert len(seeds_used) == 5  # one sampling seed per prompt, derived from its id


def test_every_implemented_subset_has_a_template_or_prefill():
    for name in IMPLEMENTED:
        s = spec(name)
        assert s.mode == "prefill" or load_template(s.template)
