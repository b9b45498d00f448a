"""The authored demo responses go through the same parsers as model output: every good one
parses, and each deliberate bad case is caught for the reason it was written for."""

import pytest

from kodcode.extract import ExtractionDrop, extract_question, prefill_question
from kodcode.parse import ParseError, parse_completion, parse_reasoning_answer, parse_solution_and_tests
from kodcode.subsets import SUBSETS
from kodcode.testinfo import align_entry_point, top_level_functions


def _stage(authored, stage):
    return {k: v for k, v in authored.items() if k.startswith(stage + "/")}


MARKED = ("questions/Algorithm_", "questions/Data_Structure_", "questions/Docs_")  # analysis + question markers


def test_questions(authored):
    qs = _stage(authored, "questions")
    subsets = {k.split("/")[1].rsplit("_", 1)[0] for k in qs}
    # every subset but Filter, which asks no questions: it tags
    assert subsets == {name for name, s in SUBSETS.items() if s.mode != "filter"} and len(subsets) == 11
    for key, text in qs.items():
        if key.startswith("questions/Prefill_"):
            q = prefill_question("Write a python function to", text)
            assert "\n" not in q and len(q) > 40 and q.endswith((".", "?"))
        elif key == "questions/Algorithm_00000002/0":
            with pytest.raises(ExtractionDrop, match="missing question markers"):
                extract_question(text, expect_markers=True)
        elif key == "questions/Docs_00000002/0":
            with pytest.raises(ExtractionDrop, match="bad document"):
                extract_question(text, expect_markers=True)
        else:
            q = extract_question(text, expect_markers=key.startswith(MARKED))
            assert len(q) > 40 and "<|" not in q


def test_filter_tags(authored):
    from kodcode.tags import TagDrop, parse_tag_answer

    tags = _stage(authored, "tags")
    assert len(tags) == 6
    parsed, dropped = {}, {}
    for key, text in tags.items():
        item = key.split("/")[1]
        task = item.rsplit("_", 1)[1]
        try:
            parsed[item] = parse_tag_answer(task, text)
        except TagDrop as drop:
            dropped[item] = str(drop)
    assert dropped == {"Filter_00000002_category": "not JSON"}
    assert len(parsed) == 5


def test_solutions(authored):
    sols = _stage(authored, "solutions")
    unparseable = []
    for key, text in sols.items():
        try:
            parsed = parse_solution_and_tests(text)
        except ParseError as exc:
            unparseable.append((key, str(exc)))
            continue
        compile(parsed.solution, key, "exec")
        compile(parsed.test, key, "exec")
        assert "def test_" in parsed.test
    assert sorted(unparseable) == [("solutions/Leetcode_00000000_I/2", "missing <|Test End|>"),
                                   ("solutions/Package_00000000_I/2", "missing <|Solution Begin|>")]


def test_style(authored):
    bad = []
    for key, text in _stage(authored, "style").items():
        try:
            stub = parse_completion(text)
            assert '"""' in stub and ">>>" in stub, key
        except ParseError as exc:
            bad.append((key, str(exc)))
    assert bad == [("style/Leetcode_00000002_I/0", "missing <|Completion End|>")]


def test_sft(authored):
    bad = []
    for key, text in _stage(authored, "sft").items():
        try:
            compile(parse_reasoning_answer(text), key, "exec")
        except ParseError as exc:
            bad.append((key, str(exc)))
    assert bad == [("sft/Leetcode_00000000_I/1", "no </think> (reasoning unfinished or truncated)")]
    renamed = parse_reasoning_answer(authored["sft/Prefill_00000000_I/1"])
    assert top_level_functions(renamed) == ["find_second_largest"]
    assert top_level_functions(align_entry_point(renamed, ["second_largest"])) == ["second_largest"]


def test_authored_folder_merges_files_and_refuses_a_key_twice(tmp_path):
    from kodcode.llm.authored import load_authored

    (tmp_path / "a.yaml").write_text("responses:\n  questions/X_00000000/0: one\n")
    (tmp_path / "b.yaml").write_text("responses:\n  questions/X_00000001/0: two\n")
    assert load_authored(tmp_path) == {"questions/X_00000000/0": "one", "questions/X_00000001/0": "two"}
    (tmp_path / "c.yaml").write_text("responses:\n  questions/X_00000000/0: again\n")
    with pytest.raises(ValueError, match=r"c.yaml: response 'questions/X_00000000/0' is also defined in .*a.yaml"):
        load_authored(tmp_path)
    (tmp_path / "c.yaml").write_text("responses: [unclosed\n")
    with pytest.raises(ValueError, match=r"c.yaml line \d+: not valid YAML"):
        load_authored(tmp_path)
