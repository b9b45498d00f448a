"""Prompt templates (our own wording; only the output markers follow upstream KodCode)."""

from __future__ import annotations

import re
from importlib import resources

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def load_template(name: str) -> str:
    return resources.files("kodcode.prompts").joinpath(name).read_text(encoding="utf-8")


def render(template: str, **values: str) -> str:
    """Fill ``{{name}}`` placeholders; every placeholder must be given (code braces are safe)."""
    missing = sorted(set(_PLACEHOLDER.findall(template)) - values.keys())
    if missing:
        raise KeyError(f"template needs values for {missing}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def format_examples(texts: list[str]) -> str:
    """Seed questions as a numbered list, the way the question prompt shows them."""
    return "\n\n".join(f"[Question {i}]: {t.strip()}" for i, t in enumerate(texts, 1))
