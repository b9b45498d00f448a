"""Every number the planner uses when neither the run's results nor the store can tell it.

Each default says where it comes from. ``paper``: arXiv 2503.02951 or its released datasets;
``upstream``: the real upstream KodCode outputs in ``../shared/fixtures/upstream_demo``;
``bench``: this project's executor benchmark (docs/executor.md); ``estimate``: this project's
guess, to be replaced by a measurement (run a pilot, then plan again: measured values win).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Default:
    value: float
    source: str


def _d(value: float, source: str) -> Default:
    return Default(value, source)


# Shares that survive a step (each measured from the run's .stats.json sidecars when present).
RATES: Mapping[str, Default] = MappingProxyType({
    "extract": _d(0.95, "estimate: answers with an extractable question (the authored demo: 28 of 30)"),
    "filter_keep": _d(0.30, "estimate: Filter seeds tagged good/excellent AND a kept category"),
    "dedup_keep": _d(0.85, "estimate: questions kept by dedup at cosine 0.95"),
    "verified": _d(0.70, "estimate: questions with a passing attempt of 10 (upstream's 3-trial "
                         "fixtures: Leetcode 15%, Prefill 63%)"),
    "complete": _d(0.95, "estimate: style conversions that parse (each adds a complete-style triplet)"),
    "parsed_solutions": _d(0.97, "estimate: solution answers with solution and tests that parse"),
    "parsed_sft": _d(0.95, "estimate: reasoning answers with code after </think>"),
    "timeout_solutions": _d(0.009, "bench: 6 of 683 upstream trials time out (docs/executor.md)"),
    "timeout_sft": _d(0.009, "bench: as timeout_solutions"),
    "oj_eligible": _d(0.5, "estimate: verified questions tagged as online-judge problems (the authored demo: 4 of 6)"),
    "parsed_online_judge": _d(0.95, "estimate: stdin/stdout conversions whose program and cases parse"),
    "timeout_online_judge": _d(0.009, "bench: as timeout_solutions"),
})

# Average tokens per request by model role: (prompt, completion). Measured as characters/4 on
# the upstream fixtures where they have the stage (Leetcode question prompts show 3 seeds, so
# the question default is the larger case).
TOKENS: Mapping[str, tuple[float, float, str]] = MappingProxyType({
    "question": (775, 140, "upstream: 100 Leetcode question prompts, chars/4"),
    "prefill": (100, 35, "upstream: 200 Prefill prompts, chars/4"),
    "tagger": (450, 15, "estimate: the tag templates plus a seed question; a short JSON answer"),
    "solution": (400, 400, "upstream: 300 Leetcode solution+test requests, chars/4"),
    "style": (1060, 180, "upstream: 15 Leetcode style conversions, chars/4"),
    "reasoning": (150, 5600, "upstream: 87 DeepSeek-R1 answers to Leetcode questions, chars/4"),
})

# Seeds per subset when results/<subset>/seeds.stats.json is absent, plan.seeds does not say and
# the source has no `sample`: rough row counts of the public sources at the revisions in
# config/paper.yaml, before any filtering (estimates; the paper does not list them).
SEEDS: Mapping[str, Default] = MappingProxyType({
    "Leetcode": _d(2_360, "estimate: greengerong/leetcode rows"),
    "Codeforces": _d(9_500, "estimate: open-r1/codeforces train problems"),
    "Apps": _d(5_000, "codeparrot/apps train split"),
    "Taco": _d(25_443, "BAAI/TACO train split"),
    "Code_Contests": _d(13_328, "deepmind/code_contests train split"),
    "Package": _d(2_000, "paper: 2,000 sampled (config sample)"),
    "Evol": _d(2_000, "paper: 2,000 sampled (config sample)"),
    "Algorithm": _d(1_200, "estimate: TheAlgorithms/Python .py files"),
    "Data_Structure": _d(400, "estimate: keon/algorithms .py files"),
    "Docs": _d(5_000, "estimate: documentation pieces of the six packages"),
    "Filter": _d(300_000, "estimate: Python rows of the seven MAGPIE sets"),
})

# Disk. Store records are zlib-compressed JSON of the request and the answer.
STORE_BYTES_PER_TOKEN = _d(1.6, "estimate: ~4 characters a token, compressed ~2.5x")
STORE_BYTES_PER_RECORD = _d(600, "estimate: the record's fixed fields, compressed, plus index and log")
VERDICT_BYTES = _d(1000, "the demo store: 236 KB for 240 verdicts")
# results/ holds each text several times (requests, responses, attempts, verified rows, triplets,
# labelled rows, release): bytes per character of prompt + answer
RESULTS_BYTES_PER_CHAR = _d(3.0, "estimate: text kept about three times over in results/")

# What the paper's release measured, to set beside a plan.
PAPER = MappingProxyType({
    "verified_questions": _d(447_000, "paper: 447K questions in KodCode-V1"),
    "attempts_per_question": _d(10, "paper: up to n = 10 attempts"),
    "sft_rows": _d(442_933, "paper: KodCode-V1-SFT-R1 rows (train 245,937 + incorrect 192,557 + "
                            "use_with_caution 4,439)"),
})
