"""Loading and validating seed files; a malformed seed is dropped and counted, never silently."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .subsets import SubsetSpec


@dataclass
class SeedReport:
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items()))}


def _load_rows(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError(f"{path}: a .json seed file holds a list of seed objects")
        return data
    rows: list[Any] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                rows.append({"__malformed__": f"line {lineno} is not JSON"})
    return rows


def validate_rows(rows: Iterable[Any], subset: SubsetSpec, report: SeedReport | None = None,
                  count_read: bool = True) -> tuple[list[dict[str, Any]], SeedReport]:
    """The valid seeds among ``rows``: dicts with a string ``id`` and a non-empty content field.

    Returns them sorted by id (so prompt assembly does not depend on source order) and a report
    of what was dropped and why. ``count_read=False`` when the caller already counted the rows."""
    report = report or SeedReport()
    seeds: dict[str, dict[str, Any]] = {}
    for row in rows:
        if count_read:
            report.read += 1
        if not isinstance(row, dict) or "__malformed__" in row:
            report.dropped["not a JSON object"] += 1
            continue
        sid = row.get("id")
        if sid is None or str(sid).strip() == "":
            report.dropped["missing id"] += 1
            continue
        content = row.get(subset.seed_field)
        if isinstance(content, list):  # snippet seeds may carry several code blocks
            content = "\n\n".join(str(c) for c in content if str(c).strip())
        if not isinstance(content, str) or not content.strip():
            report.dropped[f"empty {subset.seed_field}"] += 1
            continue
        sid = str(sid)
        if sid in seeds:
            report.dropped["duplicate id"] += 1
            continue
        seeds[sid] = {**row, "id": sid, subset.seed_field: content}
    report.kept = len(seeds)
    return [seeds[k] for k in sorted(seeds)], report


def load_seeds(path: str | Path, subset: SubsetSpec) -> tuple[list[dict[str, Any]], SeedReport]:
    """Seeds of one subset from a prepared seed file (``seeds.<Subset>``): see :func:`validate_rows`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"seed file for {subset.name} not found: {path} (config key seeds.{subset.name})")
    return validate_rows(_load_rows(path), subset)
