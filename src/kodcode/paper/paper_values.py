"""Numbers the paper (KodCode, arXiv 2503.02951) publishes, to set beside a run's values.

Only numbers this project is sure of are given; everything else is ``NOT_RECORDED`` (the
per-subset figures of the paper were not transcribed into this repository). Each value says
where it comes from, so a reader can check it against the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class PaperValue:
    value: float | int | None  # None: not recorded
    text: str  # how the paper states it
    source: str


def _v(value: float | int | None, text: str, source: str = "arXiv 2503.02951") -> PaperValue:
    return PaperValue(value, text, source)


VALUES: Mapping[str, PaperValue] = MappingProxyType({
    "release_questions": _v(447_000, "447K questions in KodCode-V1"),
    "subsets": _v(12, "12 subsets"),
    "tests_per_question": _v(7.52, "7.52 unit tests per question on average"),
    "contamination": _v(94, "94 contaminated questions of about 447K at cosine similarity 0.95, mostly Prefill "
                            "against HumanEval and MBPP"),
    "attempts": _v(10, "10 solution+test attempts per question (config/paper.yaml)"),
    "pass_at_k_ks": _v(None, "pass@1, pass@5, pass@10 per subset (Fig. 2); values " + NOT_RECORDED),
    "difficulty_bands": _v(None, "easy > 2/3 pass, hard < 1/3, fail = no pass (Fig. 5); shares " + NOT_RECORDED),
    "question_tokens": _v(None, "question length distribution (Fig. 3); " + NOT_RECORDED),
    "solution_tokens": _v(None, "solution length distribution (Fig. 3); " + NOT_RECORDED),
    "subset_rows": _v(None, "rows per subset (Fig. 16); " + NOT_RECORDED),
    "dataflow": _v(None, "counts per pipeline step (Fig. 7); " + NOT_RECORDED),
})

# The ks the paper plots in Fig. 2.
PAPER_PASS_AT_K = (1, 5, 10)


def value(key: str) -> PaperValue:
    try:
        return VALUES[key]
    except KeyError:
        raise KeyError(f"paper_values: no value named {key!r}") from None


def text(key: str) -> str:
    """The paper's value as a short string, ``not recorded`` when it is not known here."""
    v = value(key)
    return v.text if v.value is not None or NOT_RECORDED in v.text else f"{v.text}; {NOT_RECORDED}"
