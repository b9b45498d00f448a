"""Step 1: pull the question out of a question-generation response."""

from __future__ import annotations

import re

from .llm.chat_templates import all_special_texts

BAD_DOCUMENT = "BAD_DOCUMENT"

_Q_BLOCK = re.compile(r"<\|Question Begin\|>(.*?)(?:<\|Question End\|>|\Z)", re.S)
# "Question 4:", "[Question 4]:", "**New Question:**", "### Question", "New question -" ...
_PREFIX = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?\[?\s*(?:new\s+)?(?:coding\s+)?(?:assessment\s+)?question\b(?:\s*\d+)?"
    r"\s*\]?\s*(?:\*\*)?\s*(?:[:.\-\u2013]|$)\s*(?:\*\*)?\s*",
    re.I,
)


class ExtractionDrop(ValueError):
    """The response holds no usable question; ``reason`` is the counted drop reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract_question(text: str | None, expect_markers: bool = False) -> str:
    """The question in ``text``, or ``ExtractionDrop`` with the reason.

    With ``expect_markers`` (snippet and docs prompts, which analyse first), the question
    must stand between question markers; otherwise they are used when present and a
    leading "Question N:"-style label is stripped.
    """
    if text is None or not text.strip():
        raise ExtractionDrop("empty response")
    if text.strip() == BAD_DOCUMENT or text.strip().startswith(BAD_DOCUMENT):
        raise ExtractionDrop("bad document")
    blocks = [b.strip() for b in _Q_BLOCK.findall(text) if b.strip()]
    if blocks:
        question = blocks[-1]
    elif expect_markers:
        raise ExtractionDrop("missing question markers")
    else:
        question = text.strip()
    question = _strip_label(question)
    if not question:
        raise ExtractionDrop("empty question")
    return question


def _strip_label(text: str) -> str:
    first, sep, rest = text.partition("\n")
    stripped = _PREFIX.sub("", first, count=1)
    if stripped != first:
        text = stripped + sep + rest
    return text.strip()


def prefill_question(opening: str, continuation: str | None, first_line_only: bool = True) -> str:
    """A MAGPIE question: the prefilled opening plus what the model wrote after it."""
    if continuation is None:
        raise ExtractionDrop("empty response")
    text = continuation
    for marker in all_special_texts():  # a server that left the markup in: cut where the turn ended
        text = text.split(marker, 1)[0]
    if first_line_only:
        text = text.strip("\n").split("\n", 1)[0]
    text = text.rstrip()
    if not text.strip():
        raise ExtractionDrop("empty question")
    if text.lstrip().startswith(opening.strip()):  # some servers echo the prompt's tail
        return text.strip()
    from .llm.magpie import question_from_completion

    return question_from_completion(opening, text)
