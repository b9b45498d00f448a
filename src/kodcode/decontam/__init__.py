"""Benchmark decontamination: each released question's nearest benchmark problem.

Questions are embedded with the dedup model and compared (cosine similarity, FAISS inner
product on L2-normalised vectors) with the prompts of HumanEval, MBPP, BigCodeBench and
LiveCodeBench; at or above ``decontam.threshold`` a question is contaminated and the release
drops it (or keeps it with a ``contaminated`` flag). Modules:

- ``benchmarks``: which benchmarks exist, where each is read from (config -> dataclasses)
- ``loaders``: a benchmark's problems as :class:`~kodcode.decontam.loaders.BenchmarkItem` rows
- ``search``: nearest benchmark item per question
- ``stage``: the rule entry points (benchmark index, per-subset report) and the release's reader
"""
