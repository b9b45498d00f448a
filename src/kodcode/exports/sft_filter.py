"""Which KodCode-V1-SFT-R1 rows become SFT examples (the LLaMA-Factory and TRL exports).

Always: only rows whose R1 answer passed the triplet's tests (``r1_correctness`` "True").

With ``exports.sft_filter.enabled`` (the paper's SFT filtering), also drop answers
* shorter than ``min_chars`` or longer than ``max_chars`` (the whole assistant message,
  reasoning included, in characters),
* class-based where a function was asked (``drop_class_when_function``): the reference
  solution defines, at module level, a function the question's ``test_info`` names, and the
  R1 code defines a class at module level but none of those functions.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

NOT_CORRECT = "R1 answer fails the tests"
TOO_SHORT = "answer shorter than exports.sft_filter.min_chars"
TOO_LONG = "answer longer than exports.sft_filter.max_chars"
CLASS_FOR_FUNCTION = "class-based answer where a function was asked"


@dataclass(frozen=True)
class SftFilter:
    """``exports.sft_filter`` (defaults: config/schema.yaml only). ``max_chars`` None: no upper
    bound (not reachable from the config, which always has one)."""

    enabled: bool
    min_chars: int
    max_chars: int | None
    drop_class_when_function: bool

    @classmethod
    def from_params(cls, p: dict[str, Any]) -> "SftFilter":
        """From the filled-in config section; with ``enabled: false`` the other keys may be absent."""
        if not p.get("enabled"):
            return cls(enabled=False, min_chars=0, max_chars=None, drop_class_when_function=False)
        return cls(enabled=True, min_chars=int(p["min_chars"]), max_chars=int(p["max_chars"]),
                   drop_class_when_function=bool(p["drop_class_when_function"]))


OFF = SftFilter(enabled=False, min_chars=0, max_chars=None, drop_class_when_function=False)


def _top_level(code: str) -> tuple[set[str], set[str]]:
    """Names of the module-level functions and classes of ``code`` (empty when it does not parse)."""
    try:
        tree = ast.parse(code or "")
    except (SyntaxError, ValueError):
        return set(), set()
    funcs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    return funcs, classes


def asked_functions(row: dict[str, Any]) -> set[str]:
    """The functions the question asks for: names in ``test_info`` that the reference solution
    defines at module level (a method of a class the question asks for does not count)."""
    named = {t.get("function_name") for t in (row.get("test_info") or []) if t.get("function_name")}
    funcs, _ = _top_level(row.get("solution") or "")
    return named & funcs


def is_class_for_function(row: dict[str, Any]) -> bool:
    asked = asked_functions(row)
    if not asked:
        return False
    funcs, classes = _top_level(row.get("r1_solution") or "")
    return bool(classes) and not (asked & funcs)


def answer_text(row: dict[str, Any]) -> str:
    """The last assistant message of the row's conversation ('' when there is none)."""
    turns = [t for t in (row.get("conversations") or []) if t.get("from") in ("assistant", "gpt")]
    return turns[-1].get("value") or "" if turns else ""


def drop_reason(row: dict[str, Any], f: SftFilter) -> str | None:
    if str(row.get("r1_correctness")) != "True":
        return NOT_CORRECT
    if not f.enabled:
        return None
    n = len(answer_text(row))
    if n < f.min_chars:
        return TOO_SHORT
    if f.max_chars is not None and n > f.max_chars:
        return TOO_LONG
    if f.drop_class_when_function and is_class_for_function(row):
        return CLASS_FOR_FUNCTION
    return None


def apply(rows: Iterable[dict[str, Any]], f: SftFilter) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The rows kept, in order, and how many were dropped for each reason."""
    kept, dropped = [], Counter()
    for r in rows:
        reason = drop_reason(r, f)
        if reason:
            dropped[reason] += 1
        else:
            kept.append(r)
    return kept, dropped


def check_bounds(f: SftFilter) -> list[str]:
    """Config problems the schema cannot express, one line each."""
    if f.enabled and f.max_chars is not None and f.max_chars < f.min_chars:
        return [f"exports.sft_filter.max_chars ({f.max_chars}) is below min_chars ({f.min_chars}); "
                "raise max_chars or lower min_chars"]
    return []


__all__: Sequence[str] = ["SftFilter", "OFF", "apply", "drop_reason", "asked_functions", "is_class_for_function",
                          "answer_text", "check_bounds"]
