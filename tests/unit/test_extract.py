import pytest

from kodcode.extract import ExtractionDrop, extract_question, prefill_question


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Question 4: Given an array", "Given an array"),
        ("[Question 4]: Given an array", "Given an array"),
        ("**New Question:**\nGiven an array\nof ints", "Given an array\nof ints"),
        ("### Question\nGiven x", "Given x"),
        ("Questions about trees are common.", "Questions about trees are common."),
        ("<|Analysis Begin|>it sorts<|Analysis End|>\n<|Question Begin|>\nWrite f.\n<|Question End|>", "Write f."),
    ],
)
def test_extract_question_strips_labels_and_reads_markers(text, expected):
    assert extract_question(text) == expected


@pytest.mark.parametrize(
    "text, reason",
    [("", "empty response"), ("   ", "empty response"), ("BAD_DOCUMENT", "bad document"),
     ("Question 1:", "empty question")],
)
def test_extract_question_drops_with_reason(text, reason):
    with pytest.raises(ExtractionDrop) as exc:
        extract_question(text)
    assert exc.value.reason == reason


def test_snippet_answers_need_markers():
    with pytest.raises(ExtractionDrop, match="missing question markers"):
        extract_question("<|Analysis Begin|>x<|Analysis End|> Write a function.", expect_markers=True)


def test_upstream_leetcode_questions_extract_unchanged(upstream):
    rows = upstream("KodCode_seeds2questions_leetcode_*_results.jsonl")
    assert len(rows) == 100
    for r in rows:
        answer = r["messages"][-1]["content"]
        q = extract_question(answer)
        assert q and not q.lower().startswith(("question", "[question"))
        # upstream's prompt asked for no label, so the text survives as the model wrote it
        assert q in answer


def test_upstream_prefill_questions_rebuilt_from_opening(upstream):
    rows = upstream("KodCode_prefill_*_results.jsonl")
    opening = "Write a python function to"
    rebuilt = 0
    for r in rows:
        full = r["messages"][-1]["content"]
        assert full.startswith(opening)
        continuation = full[len(opening):]
        if continuation.strip():
            assert prefill_question(opening, continuation) == full.split("\n", 1)[0].strip()
            rebuilt += 1
    assert rebuilt >= 190


def test_prefill_cuts_end_of_turn_markers():
    assert prefill_question("Write a python function to", " add two numbers.<|im_end|>junk") == \
        "Write a python function to add two numbers."
    with pytest.raises(ExtractionDrop):
        prefill_question("Write a python function to", "\n\n")
