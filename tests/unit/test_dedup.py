import numpy as np
import pytest

from kodcode.dedup import BUNDLED_MODEL, embed, load_embedder, near_duplicates


def _unit(v):
    v = np.asarray(v, dtype="float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_keeps_exactly_one_of_each_duplicate_group():
    vecs = _unit([[1, 0, 0], [0.999, 0.01, 0], [0, 1, 0], [0, 0.999, 0.02], [0, 0, 1]])
    r = near_duplicates(vecs, threshold=0.95)
    assert r.keep == [True, False, True, False, True]
    assert r.duplicate_of == [None, 0, None, 2, None]


def test_chain_keeps_the_far_end():
    # a~b and b~c but not a~c: b goes (duplicate of a), c stays since its only twin was dropped
    a, b, c = [1, 0], [np.cos(0.3), np.sin(0.3)], [np.cos(0.6), np.sin(0.6)]
    r = near_duplicates(_unit([a, b, c]), threshold=float(np.cos(0.35)))
    assert r.keep == [True, False, True]


def test_empty_and_single():
    assert near_duplicates(np.zeros((0, 4), dtype="float32"), 0.9).keep == []
    assert near_duplicates(_unit([[1, 2]]), 0.9).keep == [True]


@pytest.fixture(scope="module")
def model():
    return load_embedder(BUNDLED_MODEL)


def test_bundled_model_finds_upstream_rewording(model, upstream):
    questions = [r["messages"][-1]["content"] for r in upstream("KodCode_prefill_*_results.jsonl")][:40]
    texts = questions + [questions[3].replace("Write a python function to", "Write a Python function that will")]
    r = near_duplicates(embed(model, texts), threshold=0.95)
    assert r.keep[-1] is False and r.duplicate_of[-1] == 3
    assert sum(r.keep) >= 35  # distinct upstream questions survive
