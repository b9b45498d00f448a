"""Tagging the Filter subset's questions: the label sets, the tagger's prompt and the strict
reading of its answers.

The paper keeps the Python rows of MAGPIE data that an LLM tagger rates as high quality and
files under "Algorithm Implementation" or "Function Generation". Two labels are asked for,
each in its own request (as upstream's tagger does: one task per call):

* ``quality``: how well the question states what it wants, one of :data:`QUALITY_LEVELS`;
* ``category``: the one primary task category, one of :data:`TASK_CATEGORIES` (plus any
  secondary ones).

The tagger is a chat model whose answer is prefilled with ``{`` and stopped at ``}``. That is
expressed as a raw completion prompt (:func:`prefilled_chat_prompt`): the model's own chat
template (``kodcode.llm.chat_templates``) rendered up to the start of the assistant turn,
followed by ``{``. A raw prompt needs nothing new from any backend: ``openai`` sends it to
``/completions`` (``vllm serve``, SGLang, Together), ``vllm`` tokenizes it as ``vllm serve``
does, and ``replay`` keys it like any other request. The answer text is what follows the
``{``; :func:`parse_tag_answer` puts the braces back and reads it as JSON, with no salvaging:
anything else is a drop with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .llm.chat_templates import CHAT_TEMPLATES, ChatTemplate, guess_template

# ------------------------------------------------------------------ label sets (data)

# (label, what it means) from worst to best; the descriptions are shown to the tagger.
QUALITY_LEVELS: tuple[tuple[str, str], ...] = (
    ("very poor", "unclear or incoherent; no way to tell what program is wanted; or not a programming request; "
                  "or only code with no request; or it asks for a language other than Python"),
    ("poor", "the goal can be guessed, but key facts are missing: inputs, outputs or expected behaviour"),
    ("average", "the task and its inputs and outputs are stated, but some behaviour (edge cases, formats, "
                "limits) would have to be asked about"),
    ("good", "clear and specific: a programmer could start right away; at most small details are left open. "
             "A short request whose intent is unmistakable belongs here"),
    ("excellent", "complete and precise: inputs, outputs, constraints and examples or expected behaviour are all "
                  "given; nothing needs to be asked"),
)

# (label, what it covers); the labels follow the paper's tagger, the descriptions are ours.
TASK_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Algorithm Implementation", "implement a named or classic algorithm or data structure"),
    ("Function Generation", "write a new function from a description of what it must do"),
    ("Class Design", "design classes or an object-oriented structure"),
    ("Debugging", "find and fix a bug in given code or explain a given error"),
    ("Code Review", "comment on the quality or correctness of given code"),
    ("Code Refactoring", "restructure given code without changing what it does"),
    ("Code Optimization", "make given code faster or use less memory"),
    ("API Integration", "call or integrate a third-party API, web service or SDK"),
    ("Database Operations", "queries, schemas or other database work"),
    ("Testing", "write or plan unit, integration or other tests"),
    ("Security", "secure code, authentication, encryption or vulnerabilities"),
    ("Error Handling", "input validation, exceptions and recovering from failures"),
    ("Concurrency", "threads, processes, async code or parallel work"),
    ("UI/UX Implementation", "graphical, web front-end or other user-interface code"),
    ("DevOps", "deployment, CI/CD, containers or infrastructure"),
    ("Documentation", "write docstrings, comments or technical documentation"),
    ("Dependency Management", "installing packages, versions and environment problems"),
    ("Code Migration", "port code to another language, library or version"),
    ("Performance Profiling", "measure where time or memory goes and find bottlenecks"),
    ("Others", "anything that fits none of the categories above"),
)

QUALITY_NAMES: tuple[str, ...] = tuple(n for n, _ in QUALITY_LEVELS)
CATEGORY_NAMES: tuple[str, ...] = tuple(n for n, _ in TASK_CATEGORIES)

# The tagger model and the paper's keep rule (good or excellent questions of the two
# code-writing categories) are defaults of config/schema.yaml (models.tagger, filter.*), not here.
PREFIX = "{"  # the answer is prefilled with this ...
STOP = "}"  # ... and stopped here (our answers are flat JSON objects)


@dataclass(frozen=True)
class TagTask:
    name: str
    template: str  # file under kodcode/prompts/
    value_key: str  # the answer's key that carries the label
    labels: tuple[str, ...]


TAG_TASKS: dict[str, TagTask] = {
    "quality": TagTask("quality", "tag_quality.txt", "input_quality", QUALITY_NAMES),
    "category": TagTask("category", "tag_category.txt", "task_category", CATEGORY_NAMES),
}


def label_list(pairs: Sequence[tuple[str, str]]) -> str:
    """The labels as the prompts show them: one ``- label: description`` line each."""
    return "\n".join(f"- {name}: {desc}" for name, desc in pairs)


# ------------------------------------------------------------------ the prefilled chat prompt


def chat_format_for(model: str, name: str | None = None) -> ChatTemplate:
    """``name`` (config ``filter.chat_format``) or the chat template guessed from the model id."""
    if name:
        if name not in CHAT_TEMPLATES:
            raise ValueError(f"filter.chat_format: unknown chat format {name!r}; known: {', '.join(CHAT_TEMPLATES)}")
        return CHAT_TEMPLATES[name]
    guessed = guess_template(model)
    if guessed is None:
        raise ValueError(f"models.tagger.model: no chat format known for {model!r}; "
                         f"set filter.chat_format to one of {', '.join(CHAT_TEMPLATES)}")
    return CHAT_TEMPLATES[guessed]


def prefilled_chat_prompt(fmt: ChatTemplate, user: str, prefix: str = PREFIX) -> str:
    """One user turn, then the assistant turn already begun with ``prefix`` (see
    ``ChatTemplate.prefilled_answer``)."""
    return fmt.prefilled_answer(user, prefix)


# ------------------------------------------------------------------ reading answers


class TagDrop(Exception):
    """An answer that yields no usable tag; ``reason`` is what the stats count."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _canonical(value: Any, labels: Sequence[str]) -> str | None:
    """The label ``value`` names, ignoring case and surrounding or repeated spaces; else None."""
    if not isinstance(value, str):
        return None
    wanted = " ".join(value.split()).casefold()
    for label in labels:
        if label.casefold() == wanted:
            return label
    return None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys")
    return dict(pairs)


def parse_tag_answer(task: str, text: str | None, finish_reason: str | None = "stop",
                     error: str | None = None) -> dict[str, Any]:
    """The tags in one answer, or :class:`TagDrop`.

    ``text`` is the continuation after the prefilled ``{``; backends end it before the ``}``
    stop string (one that keeps the stop string is accepted too). Braces are put back and the
    result must be one JSON object with the task's keys and a known label; nothing is
    repaired. Labels match ignoring case and spacing and are returned in their canonical
    spelling. Quality answers give ``input_quality`` and ``quality_explanation``; category
    answers give ``task_category`` and ``other_task_category`` (known secondary labels only,
    without the primary).
    """
    spec = TAG_TASKS[task]
    if error or text is None:
        raise TagDrop("generation failed")
    if finish_reason == "length":
        raise TagDrop("truncated")
    body = PREFIX + text.rstrip()
    if not body.endswith(STOP):
        body += STOP
    try:
        obj = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except ValueError:
        raise TagDrop("not JSON") from None
    if not isinstance(obj, dict):
        raise TagDrop("not JSON")
    if spec.value_key not in obj:
        raise TagDrop(f"no {spec.value_key}")
    label = _canonical(obj[spec.value_key], spec.labels)
    if label is None:
        raise TagDrop(f"unknown {spec.value_key}")
    if task == "quality":
        explanation = obj.get("explanation", "")
        if not isinstance(explanation, str):
            raise TagDrop("explanation not a string")
        return {"input_quality": label, "quality_explanation": explanation.strip()}
    others = obj.get("other_task_categories", [])
    if not isinstance(others, list):
        raise TagDrop("other_task_categories not a list")
    secondary = []
    for o in others:
        c = _canonical(o, spec.labels)
        if c is not None and c != label and c not in secondary:
            secondary.append(c)
    return {"task_category": label, "other_task_category": secondary}


# ------------------------------------------------------------------ the keep rule


@dataclass(frozen=True)
class KeepRule:
    quality: tuple[str, ...]
    categories: tuple[str, ...]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "KeepRule":
        """From the config's ``filter`` section as validated (the schema fills in the paper's
        rule); unknown labels stop with the key named."""
        quality = tuple(cfg["keep_quality"])
        categories = tuple(cfg["keep_categories"])
        for key, values, known in (("keep_quality", quality, QUALITY_NAMES),
                                   ("keep_categories", categories, CATEGORY_NAMES)):
            bad = [v for v in values if v not in known]
            if bad:
                raise ValueError(f"filter.{key}: unknown label(s) {bad}; known: {', '.join(known)}")
        return cls(quality, categories)

    def drop_reason(self, tags: Mapping[str, Any]) -> str | None:
        """None when the tags are kept, else why not (quality is checked first)."""
        if tags["input_quality"] not in self.quality:
            return f"quality {tags['input_quality']}"
        if tags["task_category"] not in self.categories:
            return f"category {tags['task_category']}"
        return None
