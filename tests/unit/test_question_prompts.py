"""Question prompts for the subsets the demo does not run: each mode renders its seeds into
the right template, with stable ids, seeds and shards; the seven seed subsets share the paper's
one seed-to-question prompt."""

import json

import pytest

from kodcode.hashing import derive_seed
from kodcode.jsonl import read_jsonl
from kodcode.llm.request import Request
from kodcode.sources.build import build_seeds
from kodcode.stages.questions import question_requests
from kodcode.subsets import IMPLEMENTED, SUBSETS, spec
from kodcode.tags import TAG_TASKS
from kodcode.templates import load_template, render

MODEL = {"model": "m", "temperature": 0.7}


def _run(tmp_path, subset, seeds, **cfg):
    raw = tmp_path / f"{subset}.raw.jsonl"
    raw.write_text("".join(json.dumps(s) + "\n" for s in seeds))
    seeds_file = tmp_path / f"{subset}.jsonl"  # as the pipeline does: the seeds rule validates first
    build_seeds({"subset": subset, "file": str(raw)}, str(seeds_file), str(tmp_path / "seeds.stats.json"))
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


SEED_SUBSETS = ["Leetcode", "Codeforces", "Apps", "Taco", "Code_Contests", "Package", "Evol"]


def test_the_seven_seed_subsets_share_one_template():
    assert {spec(n).template for n in SEED_SUBSETS} == {"question_from_seeds.txt"}
    assert [spec(n).seeds_per_prompt for n in SEED_SUBSETS] == [3, 1, 1, 1, 1, 1, 1]
    # the separate Package / Evol prompts ("make it harder") are gone
    for old in ("question_from_package.txt", "question_evolve.txt"):
        with pytest.raises(FileNotFoundError):
            load_template(old)


@pytest.mark.parametrize("subset", SEED_SUBSETS[1:])
def test_single_seed_subsets_render_the_seed_as_a_numbered_sample(tmp_path, subset):
    seed = {"id": 3, "question": "Given an array of n integers, print the length of its longest increasing run."}
    rows, _ = _run(tmp_path, subset, [seed, {"id": 4, "question": "Another statement."}])
    assert [r["request"]["item_id"] for r in rows] == [f"{subset}_00000000", f"{subset}_00000001"]
    text = Request.from_dict(rows[0]["request"]).messages[0][1]
    expected = render(load_template("question_from_seeds.txt"), examples=f"[Question 1]: {seed['question']}")
    assert text == expected  # the same method for all seven: match style, length, difficulty and topic
    assert "[Question 2]" not in text and "harder" not in text.lower()
    assert rows[0]["meta"] == {"prompt_id": "00000000", "row_id": 0, "seed_ids": ["3"], "mode": "questions"}
    assert rows[0]["request"]["seed"] == derive_seed(7, "questions", f"{subset}_00000000", 0)


def test_every_subset_is_implemented_and_has_its_prompts():
    assert set(IMPLEMENTED) == set(SUBSETS) and "Filter" in IMPLEMENTED
    for name in IMPLEMENTED:
        s = spec(name)
        if s.mode == "filter":
            assert all(load_template(t.template) for t in TAG_TASKS.values())
        else:
            assert s.mode == "prefill" or load_template(s.template)


def test_filter_makes_no_question_prompts(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": 1, "question": "q"}) + "\n")
    with pytest.raises(ValueError, match="Filter: mode 'filter' makes no question prompts"):
        question_requests("Filter", str(seeds), [str(tmp_path / "r.jsonl")], str(tmp_path / "s.json"),
                          {"subset": {}, "model": MODEL, "seed": 7, "prefill": None, "template": ""})
