"""Chat templates as plain strings: the one place that knows how each model family marks turns.

Two stages write raw completion prompts in a model's own chat markup instead of sending chat
messages: MAGPIE prefill (``magpie``: the template cut off inside the user turn) and the Filter
tagger (``kodcode.tags``: the template up to an assistant answer already begun). Both read the
markup, the default system prompt and the special token ids from the table below, so a
family's template is written once.

The strings reproduce the tokenizer's ``apply_chat_template`` for the family, without the BOS
token: backends tokenize raw prompts with the tokenizer's own special tokens, as ``vllm serve``
does for ``/v1/completions``, so BOS is added once. A change here changes the prompts and so
the store keys of every request built from them: replayed archives would no longer match.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatTemplate:
    """One model family's chat markup, enough for a system turn, one user turn and the start
    of the assistant's answer."""

    name: str
    system_start: str  # opens the system turn
    user_start: str  # opens a user turn
    assistant_start: str  # opens the assistant turn
    turn_end: str  # closes a system or user turn
    # the system text the template writes when the caller gives none; None: no system turn then
    default_system: str | None
    stop_token_ids: tuple[int, ...]  # end of the assistant's turn / end of text
    header_token_ids: tuple[int, ...] = ()  # tokens of a role header: a new turn is starting
    # the markup tokens as text; a completion that writes one has left the turn it was in
    special_texts: tuple[str, ...] = ()
    system_preamble: str = ""  # written at the start of every system turn, before its text

    def system_turn(self, text: str | None = None) -> str:
        """The system turn for ``text`` (empty or None: the template's default, if any)."""
        body = text if text else self.default_system
        if body is None:
            return ""
        return self.system_start + self.system_preamble + body + self.turn_end

    def user_turn(self, text: str) -> str:
        return self.user_start + text + self.turn_end

    def open_user_turn(self, system: str | None = None) -> str:
        """Everything before the first user message: the system turn and the user turn's opening
        (MAGPIE's pre-query template)."""
        return self.system_turn(system) + self.user_start

    def prefilled_answer(self, user: str, prefix: str) -> str:
        """One user turn (stripped, as the Llama and Qwen templates do), then the assistant's
        turn already begun with ``prefix``."""
        return self.system_turn() + self.user_turn(user.strip()) + self.assistant_start + prefix


_LLAMA3 = ChatTemplate(
    "llama-3",
    system_start="<|start_header_id|>system<|end_header_id|>\n\n",
    user_start="<|start_header_id|>user<|end_header_id|>\n\n",
    assistant_start="<|start_header_id|>assistant<|end_header_id|>\n\n",
    turn_end="<|eot_id|>",
    default_system=None,
    stop_token_ids=(128001, 128009),  # <|end_of_text|>, <|eot_id|>
    header_token_ids=(128006, 128007),  # <|start_header_id|>, <|end_header_id|>
    special_texts=("<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"),
)

CHAT_TEMPLATES: dict[str, ChatTemplate] = {
    # Llama 3.1/3.2/3.3 Instruct: the tokenizer's template always writes a system turn that
    # starts with a knowledge cut-off and a date ("26 Jul 2024" unless the caller passes one),
    # even with no system message; fixed here, so prompts never depend on the day they are built.
    "llama-3.1": ChatTemplate(
        "llama-3.1",
        system_start=_LLAMA3.system_start,
        user_start=_LLAMA3.user_start,
        assistant_start=_LLAMA3.assistant_start,
        turn_end=_LLAMA3.turn_end,
        default_system="",
        system_preamble="Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
        stop_token_ids=(128001, 128008, 128009),  # and <|eom_id|>, the end of a tool-call message
        header_token_ids=_LLAMA3.header_token_ids,
        special_texts=_LLAMA3.special_texts + ("<|eom_id|>",),
    ),
    "llama-3": _LLAMA3,
    "qwen2.5": ChatTemplate(
        "qwen2.5",
        system_start="<|im_start|>system\n",
        user_start="<|im_start|>user\n",
        assistant_start="<|im_start|>assistant\n",
        turn_end="<|im_end|>\n",
        default_system="You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        stop_token_ids=(151643, 151645),  # <|endoftext|>, <|im_end|>
        header_token_ids=(151644,),  # <|im_start|>
        special_texts=("<|im_start|>", "<|im_end|>", "<|endoftext|>"),
    ),
}


def guess_template(model: str) -> str | None:
    """The template name for a model id (``meta-llama/Meta-Llama-3.1-8B-Instruct`` ->
    ``llama-3.1``), or None when the id names no family known here."""
    m = model.lower()
    if any(v in m for v in ("llama-3.1", "llama-3.2", "llama-3.3", "llama3.1", "llama3.2", "llama3.3")):
        return "llama-3.1"
    if "llama-3" in m or "llama3" in m:
        return "llama-3"
    if "qwen2" in m:
        return "qwen2.5"
    return None


def all_special_texts() -> tuple[str, ...]:
    """Every template's markup tokens as text, each once: where a completion written without
    its chat markup being stripped has left the turn it answered, whichever family wrote it."""
    seen: dict[str, None] = {}
    for template in CHAT_TEMPLATES.values():
        seen.update(dict.fromkeys(template.special_texts))
    return tuple(seen)
