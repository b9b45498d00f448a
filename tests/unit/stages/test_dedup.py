"""rules/dedup.smk (kodcode.stages.dedup): one question of each near-duplicate group kept, with its
nearest similarity. Real inputs: the demo's Leetcode questions (a planted near-duplicate),
checked against the demo run recorded in tests/data/paper_run."""

from __future__ import annotations

import pytest

from kodcode.jsonl import read_json, read_jsonl, write_jsonl
from kodcode.stages.dedup import dedup
from kodcode.stages.questions import extract_questions

from .records import PAPER_RUN, demo_question_answers


def test_the_planted_near_duplicate_goes_and_the_recorded_questions_stay(tmp_path, demo_config, authored):
    responses = demo_question_answers(tmp_path, demo_config, authored, "Leetcode")
    extract_questions(subset="Leetcode", response_paths=[responses], out_questions=str(tmp_path / "extracted.jsonl"),
                      out_stats=str(tmp_path / "extracted.stats.json"), params={})
    dedup(subset="Leetcode", in_questions=str(tmp_path / "extracted.jsonl"), out_questions=str(tmp_path / "deduped.jsonl"),
          out_stats=str(tmp_path / "deduped.stats.json"), params=demo_config["dedup"])
    ours = read_jsonl(tmp_path / "deduped.jsonl")
    recorded = read_jsonl(PAPER_RUN / "Leetcode" / "questions" / "deduped.jsonl")
    assert [q["question_id"] for q in ours] == [q["question_id"] for q in recorded]
    for q, r in zip(ours, recorded):
        assert q["dedup_nearest_similarity"] == pytest.approx(r["dedup_nearest_similarity"], abs=1e-4)
    stats = read_json(tmp_path / "deduped.stats.json")
    # the planted rewording of Leetcode_00000001 (demo/responses) goes; the original stays
    assert (stats["input"], stats["kept"], stats["dropped"]) == (4, 3, {"near duplicate": 1})
    (pair,) = stats["pairs"]
    assert pair["kept"] == "Leetcode_00000001_I" and pair["dropped"] not in {q["question_id"] for q in ours}
    # the original's nearest question is its dropped rewording, at or above the threshold
    original = next(q for q in ours if q["question_id"] == pair["kept"])
    assert original["dedup_nearest_similarity"] >= demo_config["dedup"]["threshold"]
    assert (stats["threshold"], stats["model"]) == (demo_config["dedup"]["threshold"], demo_config["dedup"]["model"])


def test_a_single_question_is_kept_without_loading_a_model(tmp_path, monkeypatch, demo_config):
    import kodcode.dedup

    def refuse(*args, **kwargs):
        raise AssertionError("no model is needed for one question")

    monkeypatch.setattr(kodcode.dedup, "load_embedder", refuse)
    src = tmp_path / "extracted.jsonl"
    write_jsonl(src, [{"question_id": "X_00000000_I", "question": "Write a function."}])
    dedup(subset="X", in_questions=str(src), out_questions=str(tmp_path / "deduped.jsonl"),
          out_stats=str(tmp_path / "stats.json"), params=demo_config["dedup"])
    kept = read_jsonl(tmp_path / "deduped.jsonl")
    assert [(r["question_id"], r["dedup_nearest_similarity"]) for r in kept] == [("X_00000000_I", -1.0)]
    assert read_json(tmp_path / "stats.json")["kept"] == 1
