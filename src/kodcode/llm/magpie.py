"""MAGPIE prefill: make a chat model write the user's coding question itself.

The prompt is the model's chat template cut off inside the user turn, followed by an
opening such as "Write a python function to"; sampling continues the sentence, and the
question is the opening plus that continuation. The completion must stop where the user
turn would end, so each family also gives its end-of-turn stop strings and token ids. With
``early_stop`` the completion also stops at the first newline, which keeps one-sentence
questions and cuts off models that start answering right away.

The markup comes from ``chat_templates`` (shared with the Filter tagger). The family is
``prefill.family`` in the config (``qwen2.5`` or ``llama-3``); the aliases below accept the
usual spellings of the same families.
"""

from __future__ import annotations

from .chat_templates import CHAT_TEMPLATES, ChatTemplate

# The Prefill subset's openings. The first is upstream's default prefill and the one
# seen in its released Prefill questions; the second is the example the paper gives in
# its section on simple coding questions; the third is this project's choice (we could
# not read the paper's full list here), and all three can be replaced in the config
# (prefill.openings).
PREFILL_OPENINGS: tuple[str, ...] = (
    "Write a python function to",
    "Write a Python function that",
    "Create a function that",
)

FAMILIES: tuple[str, ...] = ("qwen2.5", "llama-3")  # the choices of prefill.family

# Llama 3.1-3.3 are prefilled with the plain Llama 3 markup, without 3.1's dated system
# turn: that is upstream MAGPIE's pre-query template for every Llama 3 model.
_ALIASES: dict[str, str] = {
    "qwen": "qwen2.5", "qwen2": "qwen2.5", "qwen2.5-coder": "qwen2.5",
    "llama3": "llama-3", "llama-3.1": "llama-3", "llama3.1": "llama-3", "llama-3.2": "llama-3", "llama-3.3": "llama-3",
}

# words that show the model has moved on to the assistant's turn (upstream stops there too)
ROLE_LEAK_STOPS: dict[str, tuple[str, ...]] = {
    "qwen2.5": ("Assistant", "assistant"),
    "llama-3": ("assistant",),
}


def template(family: str) -> ChatTemplate:
    """The chat template of a MAGPIE family (or one of its aliases)."""
    name = _ALIASES.get(family, family)
    if name not in FAMILIES:
        raise KeyError(f"unknown MAGPIE template family {family!r}; known: {', '.join(FAMILIES)}")
    return CHAT_TEMPLATES[name]


def prefill_prompt(family: str, system_prompt: str | None, opening: str) -> str:
    """The raw completion prompt: the template up to the user turn (with ``system_prompt``, or
    the family's default system turn when it is empty), then ``opening``."""
    return template(family).open_user_turn(system_prompt) + opening


def stop_strings(family: str, early_stop: bool = True, role_leak: bool = True) -> list[str]:
    """Stop strings for a prefill completion: the template's markup tokens, the words of a
    leaked assistant turn (``role_leak``) and, with ``early_stop``, the first newline."""
    t = template(family)
    out = list(t.special_texts) + (list(ROLE_LEAK_STOPS[t.name]) if role_leak else [])
    if early_stop:
        out.append("\n")
    return out


def stop_token_ids(family: str) -> list[int]:
    """End of turn and end of text, and the tokens that open a role header: the completion is
    still inside the user turn, so a new turn starting also ends it."""
    t = template(family)
    return sorted(set(t.stop_token_ids) | set(t.header_token_ids))


def question_from_completion(opening: str, completion: str) -> str:
    """Join the opening and the model's continuation into the question text."""
    rest = completion.strip()
    if not rest:
        return ""
    sep = "" if rest[0] in ",.;:!?" else " "
    return f"{opening.rstrip()}{sep}{rest}"
