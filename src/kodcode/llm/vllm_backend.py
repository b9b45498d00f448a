"""vLLM's offline engine (``vllm.LLM``) on the GPUs of the node the job runs on.

vLLM is an optional extra (``pip install 'kodcode-workflow[vllm]'``) and is imported
only when this backend is selected. One engine is built per model, on first use, with
``tensor_parallel_size``, ``gpu_memory_utilization``, ``max_model_len`` and ``dtype`` from
``llm.vllm``. Chat requests are rendered with the model's own chat template (its
tokenizer's ``apply_chat_template``); raw prompts (MAGPIE prefill) are used as they are.
Every request becomes token ids plus its own ``SamplingParams`` (seed, stop strings,
stop token ids), and a batch (the whole shard unless ``batch_size`` is set) is one
``LLM.generate`` call, so vLLM schedules it with continuous batching.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from .base import BackendFatalError, ResultCallback, section_from_dict
from .request import Request, Response

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'kodcode-workflow[vllm]'"


@dataclass
class VLLMConfig:
    """The ``llm.vllm`` section of the config; every key is optional."""

    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None  # None: the model's own limit
    dtype: str = "auto"
    seed: int = 0  # engine seed; each request also carries its own
    enable_prefix_caching: bool = True
    trust_remote_code: bool = False
    batch_size: int | None = None  # None: one generate call per shard
    models: dict[str, str] = field(default_factory=dict)  # model id -> local path or hub id
    download_dir: str | None = None
    engine_args: dict[str, Any] = field(default_factory=dict)  # passed to vllm.LLM as they are

    @classmethod
    def from_dict(cls, cfg: dict[str, Any] | None) -> "VLLMConfig":
        out = section_from_dict(cls, cfg, "llm.vllm")
        if out.tensor_parallel_size < 1:
            raise BackendFatalError("llm.vllm.tensor_parallel_size must be >= 1")
        if not 0 < out.gpu_memory_utilization <= 1:
            raise BackendFatalError("llm.vllm.gpu_memory_utilization must be in (0, 1]")
        if out.batch_size is not None and out.batch_size < 1:
            raise BackendFatalError("llm.vllm.batch_size must be >= 1 or null")
        return out


def import_vllm() -> Any:
    """The ``vllm`` module, or ``BackendFatalError`` with the install command."""
    try:
        return importlib.import_module("vllm")
    except ImportError as exc:
        raise BackendFatalError(
            f"llm.backend is 'vllm' but vLLM cannot be imported ({exc}). Install the optional extra on a "
            f"GPU node: {INSTALL_HINT}   (or choose llm.backend: openai / replay)"
        ) from exc


class VLLMBackend:
    name = "vllm"

    def __init__(self, config: VLLMConfig | None = None) -> None:
        self.config = config or VLLMConfig()
        self.vllm = import_vllm()
        self._engines: dict[str, Any] = {}
        self.generate_calls = 0

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> "VLLMBackend":
        return cls(VLLMConfig.from_dict(cfg))

    # ------------------------------------------------------------------ engines
    def engine(self, model: str) -> Any:
        if model not in self._engines:
            # one model on the GPUs at a time: drop the previous engine first
            for old in list(self._engines):
                self._release(old)
            cfg = self.config
            kwargs: dict[str, Any] = {
                "model": cfg.models.get(model, model),
                "tensor_parallel_size": cfg.tensor_parallel_size,
                "gpu_memory_utilization": cfg.gpu_memory_utilization,
                "dtype": cfg.dtype,
                "seed": cfg.seed,
                "enable_prefix_caching": cfg.enable_prefix_caching,
                "trust_remote_code": cfg.trust_remote_code,
            }
            if cfg.max_model_len is not None:
                kwargs["max_model_len"] = cfg.max_model_len
            if cfg.download_dir is not None:
                kwargs["download_dir"] = cfg.download_dir
            kwargs.update(cfg.engine_args)
            log.info("starting vLLM engine for %s (tp=%d)", model, cfg.tensor_parallel_size)
            self._engines[model] = self.vllm.LLM(**kwargs)
        return self._engines[model]

    def _release(self, model: str) -> None:
        engine = self._engines.pop(model, None)
        del engine
        try:
            import gc

            gc.collect()
            torch = importlib.import_module("torch")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 - best effort
            pass

    def close(self) -> None:
        for model in list(self._engines):
            self._release(model)

    # ---------------------------------------------------------------- requests
    def prompt_ids(self, tokenizer: Any, req: Request) -> list[int]:
        if req.messages is not None:
            messages = [{"role": r, "content": c} for r, c in req.messages]
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            # the template already holds the BOS token where the model wants one
            return list(tokenizer.encode(text, add_special_tokens=False))
        # a raw prompt is tokenized the way `vllm serve` does for /v1/completions
        return list(tokenizer.encode(req.prompt))

    def sampling_params(self, req: Request) -> Any:
        return self.vllm.SamplingParams(
            n=1,
            temperature=req.temperature,
            top_p=req.top_p,
            max_tokens=req.max_tokens,
            stop=list(req.stop) or None,
            stop_token_ids=list(req.stop_token_ids) or None,
            seed=req.seed,
            skip_special_tokens=True,
        )

    def generate(self, requests: Sequence[Request], on_result: ResultCallback) -> None:
        by_model: dict[str, list[Request]] = {}
        for req in requests:
            by_model.setdefault(req.model, []).append(req)
        for model, reqs in by_model.items():
            llm = self.engine(model)
            tokenizer = llm.get_tokenizer()
            limit = _max_model_len(llm, self.config.max_model_len)
            size = self.config.batch_size or len(reqs)
            for start in range(0, len(reqs), size):
                self._batch(llm, tokenizer, limit, reqs[start : start + size], on_result)

    def _batch(self, llm: Any, tokenizer: Any, limit: int | None, reqs: list[Request], on_result: ResultCallback) -> None:
        prompts, params, live = [], [], []
        for req in reqs:
            ids = self.prompt_ids(tokenizer, req)
            if limit is not None and len(ids) >= limit:
                on_result(req, Response(text=None, error=f"prompt has {len(ids)} tokens, max_model_len is {limit}", model=req.model))
                continue
            prompts.append({"prompt_token_ids": ids})
            params.append(self.sampling_params(req))
            live.append(req)
        if not live:
            return
        self.generate_calls += 1
        outputs = llm.generate(prompts, params, use_tqdm=True)
        if len(outputs) != len(live):
            raise BackendFatalError(f"vLLM returned {len(outputs)} outputs for {len(live)} prompts")
        for req, out in zip(live, outputs):
            try:
                comp = out.outputs[0]
                usage = {
                    "prompt_tokens": len(out.prompt_token_ids or ()),
                    "completion_tokens": len(comp.token_ids or ()),
                }
                resp = Response(text=comp.text, finish_reason=comp.finish_reason, model=req.model, usage=usage)
            except (AttributeError, IndexError, TypeError) as exc:
                resp = Response(text=None, error=f"unexpected vLLM output: {exc}", model=req.model)
            on_result(req, resp)


def _max_model_len(llm: Any, configured: int | None) -> int | None:
    try:
        return int(llm.llm_engine.model_config.max_model_len)
    except (AttributeError, TypeError, ValueError):
        return configured


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None
