"""A content-addressed store of slow or paid results (LLM responses, test verdicts).

One JSON file per key under ``root/namespace/ab/cd/<key>.json``, written to a unique
temporary name in the same folder and renamed into place. Rename is atomic on local
filesystems and on NFS, so many jobs on one machine or across a cluster can write at
once without a lock, a reader never sees half a record, and every record written before
a crash survives it. The store lives outside Snakemake's outputs on purpose: a failed
job must not delete responses that were paid for.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

_HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class ContentStore:
    root: Path
    namespace: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def base(self) -> Path:
        return self.root / self.namespace

    def path_for(self, key: str) -> Path:
        if len(key) < 8 or not set(key) <= _HEX:
            raise ValueError(f"store keys are lowercase hex digests, got {key!r}")
        return self.base / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path_for(key), encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).exists()

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key``; an existing record is kept (first write wins)."""
        path = self.path_for(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)

    def keys(self) -> Iterator[str]:
        if not self.base.exists():
            return
        for path in sorted(self.base.glob("??/??/*.json")):
            yield path.stem

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self.keys():
            rec = self.get(key)
            if rec is not None:
                yield key, rec

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def export(self, path: str | os.PathLike) -> int:
        """Write every record as JSONL ``{"key", "record"}`` sorted by key; returns the count."""
        n = 0
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for key, rec in self.items():
                fh.write(json.dumps({"key": key, "record": rec}, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        return n

    def import_(self, path: str | os.PathLike) -> tuple[int, int]:
        """Add the records of an exported file; returns (added, already present)."""
        added = present = 0
        for key, rec in read_archive(path).items():
            if key in self:
                present += 1
            else:
                self.put(key, rec)
                added += 1
        return added, present


def read_archive(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Load an exported store file into memory: key -> record."""
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[row["key"]] = row["record"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: not a store export line ({exc})") from exc
    return out
