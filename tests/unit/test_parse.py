import pytest

from kodcode.parse import (ParseError, parse_completion, parse_reasoning_answer, parse_solution_and_tests,
executable_tests)


def _answers(upstream, pattern):
    """prompt_id -> the three trial answers, in trial order (the files are results0..2)."""
    out = {}
    for r in upstream(pattern):
        out.setdefault(r["metadata"]["prompt_id"], []).append(r["messages"][-1]["content"])
    return out


@pytest.mark.parametrize("subset, answers, trials", [
    ("leetcode", "KodCode_questions2sv_leetcode_*_results?.jsonl", "leetcode_self_verification_trials.jsonl"),
    ("prefill", "KodCode_prefill_*_sanitized_prepared_results?.jsonl", "prefill_self_verification_trials.jsonl"),
])
def test_parse_matches_what_upstream_ran(upstream, subset, answers, trials):
    """Our parse of upstream's step-2 answers gives the files upstream executed, except where
    upstream's parser left prose or stray backticks in them (ours keeps only the code)."""
    by_prompt = _answers(upstream, answers)
    same = differ = 0
    for t in upstream(trials):
        text = by_prompt[t["question_id"]][int(t["trial"].rsplit("_", 1)[1])]
        parsed = parse_solution_and_tests(text)
        ours = (parsed.solution.strip(), executable_tests(parsed.test).strip())
        if ours == (t["solution_code"].strip(), t["test_file"].strip()):
            same += 1
        else:
            differ += 1
            assert "```" not in ours[0] and "```" not in ours[1]
    assert same / (same + differ) >= 0.95, (same, differ)


def test_missing_markers_are_parse_errors():
    good = "<|Solution Begin|>\n```python\ndef f():\n    return 1\n```\n<|Solution End|>\n<|Test Begin|>\n```python\nfrom solution import f\n\ndef test_f():\n    assert f() == 1\n```\n<|Test End|>"
    parsed = parse_solution_and_tests(good)
    assert parsed.solution == "def f():\n    return 1\n"
    assert executable_tests(parsed.test).startswith("from solution import *\n\nfrom solution import f")
    with pytest.raises(ParseError, match="missing <\\|Test End\\|>"):
        parse_solution_and_tests(good.replace("<|Test End|>", ""))
    with pytest.raises(ParseError, match="missing <\\|Solution Begin\\|>"):
        parse_solution_and_tests("no markers at all")


def test_upstream_style_completions_parse(upstream):
    rows = upstream("Verified_KodCode_leetcode_*_i2c_prepared_results.jsonl")
    parsed = [parse_completion(r["messages"][-1]["content"]) for r in rows]
    assert len(parsed) == 15 and all(p.strip() for p in parsed)
    with pytest.raises(ParseError):
        parse_completion("<|Completion Begin|>\ndef f(): ...")


def test_upstream_reasoning_answers(upstream):
    rows = upstream("KodCode_leetcode_*_prepared_results?.jsonl")
    ok = errors = 0
    for r in rows:
        try:
            code = parse_reasoning_answer(r["messages"][-1]["content"])
            assert code.strip()
            ok += 1
        except ParseError:
            errors += 1
    assert ok >= 60 and ok + errors == len(rows) == 87


def test_reasoning_answer_needs_think_end():
    with pytest.raises(ParseError, match="</think>"):
        parse_reasoning_answer("<think>hmm ```python\nx=1\n```")
    code = parse_reasoning_answer("<think>a</think>Use:\n```python\nf(1)\n```\nCode:\n```python\ndef f(x):\n    return x\n```")
    assert code == "def f(x):\n    return x\n"
