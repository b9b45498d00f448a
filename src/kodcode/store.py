"""A content-addressed store of slow or paid results (LLM responses, test verdicts).

One JSON file per key under ``root/namespace/ab/<key>.json`` (``ab``: the key's first two
hex digits, so at most 256 folders, made once; 10 million records are ~40,000 files per
folder, which ext4, XFS and NFS index well). A record is written to
a unique temporary name in its final folder and then hard-linked into place (``link``
fails if the name exists, so the first writer wins); where a filesystem has no hard
links it is renamed instead. Both are atomic on local filesystems and on NFS, so many
jobs on one machine or across a cluster can write at once without a lock, a reader
never sees half a record, and every record written before a crash survives it. There
is no index or database file that a single writer would have to own.

The store lives outside Snakemake's outputs on purpose: a failed job must not delete
responses that were paid for.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class ContentStore:
    root: Path
    namespace: str
    # set once this object has seen (or made) the 256 fan-out folders
    _ready: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def base(self) -> Path:
        return self.root / self.namespace

    def path_for(self, key: str) -> Path:
        if len(key) < 8 or not _HEX.issuperset(key):
            raise ValueError(f"store keys are lowercase hex digests, got {key!r}")
        return self.base / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path_for(key), encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).exists()

    def put(self, key: str, record: dict[str, Any]) -> bool:
        """Store ``record`` under ``key`` unless a record is there already (first write
        wins). Returns True when this call wrote it."""
        path = self.path_for(key)
        folder = path.parent
        if not self._ready:
            self.ensure_folders()
        data = json.dumps(record, ensure_ascii=False, sort_keys=True)
        tmp = folder / f".{key}.{uuid.uuid4().hex}.tmp"
        try:
            fh = open(tmp, "w", encoding="utf-8")
        except FileNotFoundError:  # a folder removed behind our back
            folder.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "w", encoding="utf-8")
        with fh:
            fh.write(data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links here (some FUSE/SMB mounts): rename instead
            if path.exists():
                return False
            os.replace(tmp, path)
            return True
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        return True

    def ensure_folders(self) -> None:
        """Make the 256 fan-out folders (once per store; a single ``stat`` afterwards), so
        that no write pays for a ``mkdir``."""
        if not (self.base / "ff").is_dir():
            for i in range(256):
                (self.base / f"{i:02x}").mkdir(parents=True, exist_ok=True)
        self._ready.append(True)

    def keys(self) -> Iterator[str]:
        """Every stored key, sorted."""
        if not self.base.exists():
            return
        for folder in sorted(_subdirs(self.base)):
            names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
            for name in sorted(names):
                yield name[:-5]

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self.keys():
            rec = self.get(key)
            if rec is not None:
                yield key, rec

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def stray_temp_files(self) -> list[Path]:
        """Temporary files left by writers that were killed between write and link."""
        if not self.base.exists():
            return []
        return sorted(self.base.glob("??/.*.tmp"))

    def stats(self, group: Callable[[dict[str, Any]], str] | None = None) -> dict[str, dict[str, Any]]:
        """Counts and token totals per group (default: the record's ``stage``)."""
        group = group or (lambda rec: str(rec.get("stage") or "-"))
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"records": 0, "prompt_tokens": 0, "completion_tokens": 0, "models": set(),
                     "first": None, "last": None}
        )
        for _, rec in self.items():
            row = out[group(rec)]
            row["records"] += 1
            resp = rec.get("response") or {}
            usage = resp.get("usage") or {}
            row["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
            row["completion_tokens"] += int(usage.get("completion_tokens") or 0)
            model = (rec.get("request") or {}).get("model") or resp.get("model")
            if model:
                row["models"].add(model)
            ts = rec.get("received_at")
            if ts:
                row["first"] = ts if row["first"] is None else min(row["first"], ts)
                row["last"] = ts if row["last"] is None else max(row["last"], ts)
        return {k: {**v, "models": sorted(v["models"])} for k, v in sorted(out.items())}

    def export(self, path: str | os.PathLike, keep: Callable[[dict[str, Any]], bool] | None = None) -> int:
        """Write every record (or those ``keep`` accepts) as JSONL ``{"key", "record"}``
        sorted by key, atomically; returns the count."""
        n = 0
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for key, rec in self.items():
                if keep is not None and not keep(rec):
                    continue
                fh.write(json.dumps({"key": key, "record": rec}, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        os.replace(tmp, path)
        return n

    def import_(self, path: str | os.PathLike) -> tuple[int, int]:
        """Add the records of an exported file; returns (added, already present)."""
        return self.import_records(read_archive(path).items())

    def import_records(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, int]:
        added = present = 0
        for key, rec in rows:
            if key not in self and self.put(key, rec):
                added += 1
            else:
                present += 1
        return added, present


def _subdirs(path: Path) -> Iterator[Path]:
    with os.scandir(path) as it:
        for entry in it:
            if entry.is_dir() and len(entry.name) == 2:
                yield Path(entry.path)


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
