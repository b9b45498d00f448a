"""Prompt templates (our own wording; only the output markers follow upstream KodCode)."""

from __future__ import annotations

import re
from pathlib import Path
from importlib import resources

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def load_template(name: str, override_dir: str | None = None) -> str:
    """A template's text: from ``override_dir`` when it has the file (config ``prompts_dir``),
    else the packaged default. Rules pass the text as a param, so editing it reruns them."""
    if override_dir:
        candidate = Path(override_dir) / name
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
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
