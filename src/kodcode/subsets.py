"""The twelve KodCode subsets and how each one turns seeds into question prompts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubsetSpec:
    name: str
    mode: str  # prefill | questions | snippet | docs | filter
    seeds_per_prompt: int
    template: str  # file name under kodcode/prompts/ ("" for Prefill; Filter's are in kodcode.tags)
    seed_field: str  # the seed field that carries the seed's content


SUBSETS: dict[str, SubsetSpec] = {
    s.name: s
    for s in [
        SubsetSpec("Prefill", "prefill", 0, "", ""),
        SubsetSpec("Leetcode", "questions", 3, "question_from_seeds.txt", "question"),
        SubsetSpec("Codeforces", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Apps", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Taco", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Code_Contests", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Package", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Evol", "questions", 1, "question_from_seeds.txt", "question"),
        SubsetSpec("Algorithm", "snippet", 1, "question_from_snippet.txt", "codes"),
        SubsetSpec("Data_Structure", "snippet", 1, "question_from_snippet.txt", "codes"),
        SubsetSpec("Docs", "docs", 1, "question_from_docs.txt", "doc"),
        SubsetSpec("Filter", "filter", 1, "", "question"),
    ]
}

# The seven seed subsets share one prompt, as in the paper: write a new assessment question that
# matches the samples' style, length, difficulty and topic (Leetcode shows 3 samples, the rest 1).
# Filter generates no question: its seeds are tagged and kept or dropped (kodcode.stages.tagging).

# Subsets whose generation is implemented end to end in this workflow version.
IMPLEMENTED = tuple(SUBSETS)


def spec(name: str) -> SubsetSpec:
    try:
        return SUBSETS[name]
    except KeyError:
        raise ValueError(f"unknown subset {name!r}; known: {', '.join(SUBSETS)}") from None
