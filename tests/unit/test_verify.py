import pytest

from kodcode.verify import difficulty, mean_pass_at_k, pass_at_k, summarize


@pytest.mark.parametrize("passes, n, label", [
    (3, 3, "easy"), (2, 3, "easy"), (1, 3, "medium"), (0, 3, "hard"),
    (7, 10, "easy"), (6, 10, "medium"), (4, 10, "medium"), (3, 10, "hard"), (10, 10, "easy"),
])
def test_difficulty_thresholds(passes, n, label):
    assert difficulty(passes, n) == label


def test_difficulty_agrees_with_upstream_labels(upstream):
    rows = [r["metadata"] for r in upstream("KodCode_leetcode_*_prepared_results0.jsonl")]
    for m in rows:
        seq = m["gpt_pass_sequence"]
        assert difficulty(sum(seq), len(seq)) == m["gpt_difficulty"]
        assert round(sum(seq) / len(seq), 3) == m["gpt_pass_percentage"]


def test_chosen_trial_is_a_pass_with_highest_coverage():
    v = summarize([False, True, True, True], [100.0, 80.0, 95.0, 95.0])
    assert v.chosen == 2 and v.pass_sequence == [0, 1, 1, 1] and v.pass_trial_num == 3
    assert v.pass_percentage == 0.75 and v.difficulty == "easy"
    assert summarize([True, False, True], [1.0, None, 2.0]).difficulty == "easy"
    assert summarize([False, False], [100.0, None]).chosen is None
    assert summarize([True, True], [None, 10.0]).chosen == 1


def test_pass_at_k_estimator():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(3, 1, 1) == pytest.approx(1 / 3)
    assert pass_at_k(3, 1, 2) == pytest.approx(2 / 3)
    assert pass_at_k(5, 2, 3) == pytest.approx(1 - 1 / 10)
    assert mean_pass_at_k([(3, 1), (3, 0), (3, 3)], [1, 3]) == {"pass@1": 0.4444, "pass@3": 0.6667}
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)
