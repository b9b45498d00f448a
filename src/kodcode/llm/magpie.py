"""MAGPIE prefill: make a chat model write the user's coding question itself.

The prompt is the model's chat template cut off inside the user turn, followed by an
opening such as "Write a python function to"; sampling continues the sentence, and the
question is the opening plus that continuation. The completion must stop where the user
turn would end, so each model family also names its end-of-turn stop strings and token
ids. With ``early_stop`` the completion also stops at the first newline, which keeps
one-sentence questions and cuts off models that start answering right away.

Templates omit the BOS token: backends tokenize raw prompts with the tokenizer's own
special tokens, as ``vllm serve`` does for ``/v1/completions``, so it is added once.
Templates can be replaced or extended from the config (``llm.magpie.templates``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

# The Prefill subset's openings. The first is upstream's default prefill and the one
# seen in its released Prefill questions; the second is the example the paper gives in
# its section on simple coding questions; the third is this project's choice (we could
# not read the paper's full list here), and all three can be replaced in the config.
PREFILL_OPENINGS: tuple[str, ...] = (
    "Write a python function to",
    "Write a Python function that",
    "Create a function that",
)

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


@dataclass(frozen=True)
class MagpieTemplate:
    family: str
    system_block: str  # "{system}" is replaced by the system prompt
    user_start: str  # opens the user turn; the prefill opening follows it directly
    default_system: str | None = None  # used when no system prompt is given; None: no system block
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    # words that show the model has moved on to the assistant's turn (upstream stops there too)
    role_leak_stops: tuple[str, ...] = field(default=())

    def pre_query(self, system_prompt: str | None = None) -> str:
        system = system_prompt if system_prompt else self.default_system
        head = self.system_block.replace("{system}", system) if system else ""
        return head + self.user_start


TEMPLATES: dict[str, MagpieTemplate] = {
    "qwen2.5": MagpieTemplate(
        family="qwen2.5",
        system_block="<|im_start|>system\n{system}<|im_end|>\n",
        user_start="<|im_start|>user\n",
        default_system=QWEN_DEFAULT_SYSTEM,
        stop=("<|im_start|>", "<|im_end|>", "<|endoftext|>"),
        stop_token_ids=(151643, 151644, 151645),
        role_leak_stops=("Assistant", "assistant"),
    ),
    "llama-3": MagpieTemplate(
        family="llama-3",
        system_block="<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>",
        user_start="<|start_header_id|>user<|end_header_id|>\n\n",
        default_system=None,
        stop=("<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"),
        stop_token_ids=(128001, 128006, 128007, 128009),
        role_leak_stops=("assistant",),
    ),
}

_ALIASES = {
    "qwen": "qwen2.5", "qwen2": "qwen2.5", "qwen2.5-coder": "qwen2.5",
    "llama3": "llama-3", "llama-3.1": "llama-3", "llama3.1": "llama-3", "llama-3.2": "llama-3", "llama-3.3": "llama-3",
}


def family_for_model(model: str) -> str:
    """Guess the template family from a model id (``Qwen/Qwen2.5-Coder-7B-Instruct`` -> qwen2.5)."""
    m = model.lower()
    if "qwen2" in m or "qwq" in m:
        return "qwen2.5"
    if "llama-3" in m or "llama3" in m:
        return "llama-3"
    raise KeyError(f"no MAGPIE template family known for model {model!r}; choose one of {sorted(TEMPLATES)}")


def templates_from_config(cfg: Mapping[str, Any] | None) -> dict[str, MagpieTemplate]:
    """The built-in templates, with ``llm.magpie.templates`` entries replacing or adding fields.

    Each entry may set system_block, user_start, default_system, stop, stop_token_ids and
    role_leak_stops; a new family must set system_block and user_start.
    """
    out = dict(TEMPLATES)
    for family, spec in ((cfg or {}).get("templates") or {}).items():
        spec = dict(spec)
        for k in ("stop", "stop_token_ids", "role_leak_stops"):
            if k in spec:
                spec[k] = tuple(spec[k])
        base = out.get(_ALIASES.get(family, family))
        if base is None:
            if "system_block" not in spec or "user_start" not in spec:
                raise ValueError(f"llm.magpie.templates.{family}: a new family needs system_block and user_start")
            out[family] = MagpieTemplate(family=family, **spec)
        else:
            out[base.family] = replace(base, **spec)
    return out


def template(family: str, templates: Mapping[str, MagpieTemplate] | None = None) -> MagpieTemplate:
    table = templates or TEMPLATES
    name = _ALIASES.get(family, family)
    if name not in table:
        raise KeyError(f"unknown MAGPIE template family {family!r}; known: {sorted(table)}")
    return table[name]


def prefill_prompt(
    family: str,
    system_prompt: str | None,
    opening: str,
    templates: Mapping[str, MagpieTemplate] | None = None,
) -> str:
    """The raw completion prompt: pre-query template up to the user turn, then ``opening``."""
    return template(family, templates).pre_query(system_prompt) + opening


def stop_strings(
    family: str,
    early_stop: bool = True,
    templates: Mapping[str, MagpieTemplate] | None = None,
    role_leak: bool = True,
) -> list[str]:
    """Stop strings for a prefill completion; ``early_stop`` adds the first newline."""
    t = template(family, templates)
    out = list(t.stop) + (list(t.role_leak_stops) if role_leak else [])
    if early_stop:
        out.append("\n")
    return out


def stop_token_ids(family: str, templates: Mapping[str, MagpieTemplate] | None = None) -> list[int]:
    return list(template(family, templates).stop_token_ids)


def question_from_completion(opening: str, completion: str) -> str:
    """Join the opening and the model's continuation into the question text."""
    rest = completion.strip()
    if not rest:
        return ""
    sep = "" if rest[0] in ",.;:!?" else " "
    return f"{opening.rstrip()}{sep}{rest}"
