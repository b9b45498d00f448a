"""rules/questions.smk (kodcode.stages.questions). Question prompts for the subsets the demo does
not run: each mode renders its seeds into the right template, with stable ids, seeds and shards;
the seven seed subsets share the paper's one seed-to-question prompt. Extraction on the demo's
authored answers, checked against the demo run recorded in tests/data/paper_run."""

import json

import pytest

from kodcode.hashing import derive_seed
from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.sources.build import build_seeds
from kodcode.stages.questions import extract_questions, question_requests
from kodcode.subsets import IMPLEMENTED, SUBSETS, spec
from kodcode.tags import TAG_TASKS
from kodcode.templates import load_template, render

from .records import PAPER_RUN, demo_question_answers

# a models.* entry as the config check fills it in
MODEL = {"model": "m", "temperature": 0.7, "top_p": 1.0, "max_tokens": 2048, "stop": []}


def _run(tmp_path, subset, seeds, **cfg):
    raw = tmp_path / f"{subset}.raw.jsonl"
    raw.write_text("".join(json.dumps(s) + "\n" for s in seeds))
    seeds_file = tmp_path / f"{subset}.jsonl"  # as the pipeline does: the seeds rule validates first
    build_seeds(plan={"subset": subset, "file": str(raw)}, out_seeds=str(seeds_file),
                out_stats=str(tmp_path / "seeds.stats.json"))
    outs = [str(tmp_path / f"{subset}_{i}.jsonl") for i in range(2)]
    params = {"subset": cfg, "model": MODEL, "seed": 7, "prefill": None, "template": load_template(spec(subset).template)}
    question_requests(subset=subset, seeds_file=str(seeds_file), out_paths=outs, out_stats=str(tmp_path / "stats.json"),
                      params=params)
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


SEED_SUBSETS = [name for name, s in SUBSETS.items() if s.mode == "questions"]


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


def test_the_demo_answers_give_the_recorded_questions_and_drop_the_planted_bad_one(tmp_path, demo_config, authored):
    for subset, dropped in (("Leetcode", {}), ("Algorithm", {"missing question markers": 1})):
        folder = tmp_path / subset
        folder.mkdir()
        responses = demo_question_answers(folder, demo_config, authored, subset)
        extract_questions(subset=subset, response_paths=[responses], out_questions=str(folder / "extracted.jsonl"),
                          out_stats=str(folder / "extracted.stats.json"), params={})
        extracted = {q["question_id"]: q for q in read_jsonl(folder / "extracted.jsonl")}
        # what dedup kept in the recorded run is what extraction gives now, field for field
        for q in read_jsonl(PAPER_RUN / subset / "questions" / "deduped.jsonl"):
            assert {k: v for k, v in q.items() if k != "dedup_nearest_similarity"} == extracted[q["question_id"]]
        stats = read_json(folder / "extracted.stats.json")
        assert stats["dropped"] == dropped and stats["extracted"] == len(extracted)
        assert stats["responses"] == len(extracted) + sum(dropped.values())


def test_prefill_questions_start_with_their_opening_and_stop_at_the_first_line(tmp_path, demo_config, authored):
    responses = demo_question_answers(tmp_path, demo_config, authored, "Prefill")
    rows = {r["item_id"]: r for r in read_jsonl(responses)}
    for first_line_only in (True, False):
        out = tmp_path / f"extracted_{first_line_only}.jsonl"
        extract_questions(subset="Prefill", response_paths=[responses], out_questions=str(out),
                          out_stats=str(tmp_path / "extracted.stats.json"), params={"first_line_only": first_line_only})
        for q in read_jsonl(out):
            opening = rows[q["question_id"][:-2]]["meta"]["opening"]
            assert q["question"].startswith(opening) and q["metadata"]["mode"] == "prefill"
            if first_line_only:
                assert "\n" not in q["question"]
    assert len(read_jsonl(tmp_path / "extracted_True.jsonl")) == demo_config["questions"]["Prefill"]["n_prompts"]
