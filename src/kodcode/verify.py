"""Step 2 bookkeeping: pass sequences, difficulty, the chosen trial and pass@k."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import comb
from typing import Sequence


def difficulty(passes: int, attempts: int) -> str:
    """easy when at least 2/3 of attempts pass, hard when fewer than 1/3, else medium.

    The paper says "easy > 2/3"; upstream's released labels count exactly 2/3 (2 of 3
    attempts) as easy, so we do too. With the paper's 10 attempts the two readings agree.
    """
    if attempts <= 0:
        raise ValueError("difficulty needs at least one attempt")
    rate = Fraction(passes, attempts)
    if rate >= Fraction(2, 3):
        return "easy"
    if rate < Fraction(1, 3):
        return "hard"
    return "medium"


@dataclass(frozen=True)
class Verification:
    pass_sequence: list[int]
    pass_trial_num: int
    pass_percentage: float
    difficulty: str
    chosen: int | None  # index of the chosen attempt, None when nothing passed


def summarize(passed: Sequence[bool], coverage: Sequence[float | None]) -> Verification:
    """Summarise one question's attempts; the chosen trial passes with the highest coverage
    (the earliest among equals)."""
    seq = [1 if p else 0 for p in passed]
    n, k = len(seq), sum(seq)
    chosen = None
    best = -1.0
    for i, (p, cov) in enumerate(zip(passed, coverage)):
        c = -0.5 if cov is None else float(cov)
        if p and c > best:
            chosen, best = i, c
    return Verification(
        pass_sequence=seq,
        pass_trial_num=k,
        pass_percentage=round(k / n, 3) if n else 0.0,
        difficulty=difficulty(k, n) if n else "hard",
        chosen=chosen,
    )


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with n samples of which c pass (Chen et al., 2021)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(results: Sequence[tuple[int, int]], ks: Sequence[int]) -> dict[str, float]:
    """Mean pass@k over problems given as (n, c) pairs."""
    out = {}
    for k in ks:
        vals = [pass_at_k(n, c, k) for n, c in results if n >= k]
        out[f"pass@{k}"] = round(sum(vals) / len(vals), 4) if vals else float("nan")
    return out
