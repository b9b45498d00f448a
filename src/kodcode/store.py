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

Each file starts with a SHA-256 of the rest of its text (``{"_sha256": "<hex>", ...}``,
still one JSON object). A record that fails it or does not parse (a disk or copy that
damaged it, a hand edit) reads as absent and is moved to ``root/quarantine/<namespace>/``
with a warning, so the run asks for it again instead of stopping. Records written before
checksums existed have none and are only checked for being a JSON object.

A store that disappears or cannot be written during a run raises :class:`StoreError`
(one line naming the store and what to do) rather than dropping paid results.

The store lives outside Snakemake's outputs on purpose: a failed job must not delete
responses that were paid for.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

log = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")
_FOLDERS = frozenset(f"{i:02x}" for i in range(256))
CHECKSUM_KEY = "_sha256"
_HEAD = '{"' + CHECKSUM_KEY + '": "'
QUARANTINE = "quarantine"
STALE_TEMP_S = 3600.0  # a writer holds its temp file for milliseconds; older ones are left by killed writers


class StoreError(Exception):
    """The store cannot be read or written (deleted, unmounted, full, read-only).

    Its message is one line naming the store and saying what to do."""

    def __str__(self) -> str:  # never let a multi-line message through
        return " ".join(super().__str__().split())


class DamagedRecord(ValueError):
    """A record file that fails its checksum or does not parse."""


def encode_record(record: dict[str, Any]) -> bytes:
    """The file text of ``record``: its sorted JSON with a checksum of that JSON put first."""
    if CHECKSUM_KEY in record:
        raise ValueError(f"store records must not have a {CHECKSUM_KEY!r} key")
    body = json.dumps(record, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    rest = "}" if body == "{}" else ", " + body[1:]
    return (_HEAD + digest + '"' + rest).encode("utf-8")


def decode_record(data: bytes) -> dict[str, Any]:
    """The record stored in ``data``, exactly as it was put; raises DamagedRecord."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedRecord("not UTF-8 text") from None
    if text.startswith(_HEAD):
        start = len(_HEAD)
        digest, quote, rest = text[start:start + 64], text[start + 64:start + 65], text[start + 65:]
        if quote != '"' or not (rest == "}" or rest.startswith(", ")):
            raise DamagedRecord("damaged checksum header")
        body = "{}" if rest == "}" else "{" + rest[2:]
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            raise DamagedRecord("checksum does not match: cut short or changed after it was written")
    else:  # written before records carried a checksum: parsing is the only check
        body = text
    try:
        record = json.loads(body)
    except ValueError as exc:
        raise DamagedRecord(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise DamagedRecord(f"a JSON {type(record).__name__}, not an object")
    return record


class _Read(NamedTuple):
    record: dict[str, Any] | None = None  # None: absent or damaged
    problem: str | None = None  # why the file is damaged
    inode: int | None = None
    checked: bool = False  # it carried a checksum (records from before checksums do not)


class ImportCounts(NamedTuple):
    added: int
    present: int
    repaired: int  # damaged records replaced by the archive's copy


@dataclass
class Damage:
    path: Path
    reason: str


@dataclass
class VerifyReport:
    records: int = 0  # readable records
    unchecked: int = 0  # of those, written before checksums (only parsed)
    damaged: list[Damage] = field(default_factory=list)
    quarantined: list[Path] = field(default_factory=list)  # where --repair moved the damaged ones
    stray_temp_files: list[Path] = field(default_factory=list)
    removed_temp_files: int = 0

    @property
    def clean(self) -> bool:
        return not self.damaged or len(self.quarantined) == len(self.damaged)


@dataclass(frozen=True)
class ContentStore:
    root: Path
    namespace: str
    # set once this object has seen (or made) the 256 fan-out folders; from then on a
    # missing folder means the store was deleted or unmounted under the run
    _ready: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def base(self) -> Path:
        return self.root / self.namespace

    @property
    def quarantine_dir(self) -> Path:
        return self.root / QUARANTINE / self.namespace

    def path_for(self, key: str) -> Path:
        if len(key) < 8 or not _HEX.issuperset(key):
            raise ValueError(f"store keys are lowercase hex digests, got {key!r}")
        return self.base / key[:2] / f"{key}.json"

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> dict[str, Any] | None:
        """The record under ``key``, or None when absent or damaged (a damaged one is moved
        to the quarantine folder, so the caller can produce and store it again)."""
        return self.lookup(key)[0]

    def lookup(self, key: str) -> tuple[dict[str, Any] | None, Path | None]:
        """(record, None); (None, None) when absent; (None, where it went) when damaged."""
        path = self.path_for(key)
        got = self._read(path)
        if got.problem is None:
            return got.record, None
        return None, self.quarantine(path, got.problem, got.inode)

    def _read(self, path: Path) -> _Read:
        try:
            with open(path, "rb") as fh:
                inode = os.fstat(fh.fileno()).st_ino
                data = fh.read()
        except FileNotFoundError:
            return _Read()
        except OSError as exc:
            raise StoreError(f"cannot read store record {path} ({exc.strerror or exc}); check the store folder's "
                             "permissions and mount") from None
        try:
            return _Read(decode_record(data), None, inode, data.startswith(_HEAD.encode()))
        except DamagedRecord as exc:
            return _Read(None, str(exc), inode)

    def quarantine(self, path: Path, reason: str, inode: int | None = None, warn: bool = True) -> Path | None:
        """Move a damaged record aside (kept for inspection) and log where (``warn``); returns
        the new path, or None when another reader moved it first or it cannot be moved.
        ``inode``: the file that was found damaged, so that a good record written in its
        place meanwhile is not moved."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.quarantine_dir / f"{path.stem}.{stamp}.{uuid.uuid4().hex[:8]}.json"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(path, target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("damaged store record %s (%s); could not move it to %s (%s); it is skipped",
                        path, reason, target.parent, exc.strerror)
            return None
        try:
            moved = os.stat(target).st_ino
        except FileNotFoundError:
            return None
        if inode is not None and moved != inode:
            # between our read and the move another process quarantined the damaged file
            # and wrote a good record: that is what we moved, so put it back
            with contextlib.suppress(FileExistsError):
                os.link(target, path)
            os.unlink(target)
            return None
        if warn:
            log.warning("damaged store record %s (%s): moved to %s; it will be produced again", path, reason, target)
        return target

    def __contains__(self, key: str) -> bool:
        """A file is there (it may still turn out damaged on ``get``)."""
        return self.path_for(key).exists()

    # ------------------------------------------------------------------ writing
    def put(self, key: str, record: dict[str, Any]) -> bool:
        """Store ``record`` under ``key`` unless a record is there already (first write
        wins). Returns True when this call wrote it. Raises StoreError when the store
        folder vanished or cannot be written."""
        path = self.path_for(key)
        folder = path.parent
        data = encode_record(record)
        if not self._ready:
            self.ensure_folders()
        tmp = folder / f".{key}.{uuid.uuid4().hex}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            raise self._gone() from None
        except OSError as exc:
            raise self._unwritable(exc, tmp) from None
        try:
            with open(fd, "wb") as fh:
                fh.write(data)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            except FileNotFoundError:
                raise self._gone() from None
            except OSError:  # no hard links here (some FUSE/SMB mounts): rename instead
                if path.exists():
                    return False
                os.replace(tmp, path)
            return True
        except FileNotFoundError:
            raise self._gone() from None
        except OSError as exc:
            raise self._unwritable(exc, path) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def ensure_folders(self) -> None:
        """Make whichever of the 256 fan-out folders are missing (one ``listdir`` when all
        exist), so that no write pays for a ``mkdir``."""
        try:
            have = set(os.listdir(self.base)) if self.base.is_dir() else set()
            for name in sorted(_FOLDERS - have):
                (self.base / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unwritable(exc, self.base) from None
        if not self._ready:
            self._ready.append(True)

    def _gone(self) -> StoreError:
        return StoreError(
            f"store folder {self.base} disappeared during the run (deleted or unmounted?); stopped so that new "
            "results are not silently lost. Restore or remount it (or point 'store' at a new folder) and rerun: "
            "results already in the store are reused and only the rest is produced again")

    def _unwritable(self, exc: OSError, path: Path) -> StoreError:
        return StoreError(
            f"cannot write to store {self.base} ({exc.strerror or exc}: {path}); stopped so that new results are "
            "not silently lost. The results stored so far are safe; free space or fix permissions, then rerun: "
            "only the rest is produced again")

    # ------------------------------------------------------------------ scanning
    def keys(self) -> Iterator[str]:
        """Every stored key, sorted."""
        if not self.base.exists():
            return
        for folder in sorted(_subdirs(self.base)):
            names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
            for name in sorted(names):
                yield name[:-5]

    def items(self, damaged: list[Path] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every readable record, sorted by key. Damaged records are skipped and left in
        place; their paths are appended to ``damaged`` when given."""
        for key in self.keys():
            path = self.path_for(key)
            got = self._read(path)
            if got.problem is not None:
                if damaged is not None:
                    damaged.append(path)
            elif got.record is not None:
                yield key, got.record

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def stray_temp_files(self, older_than_s: float = 0.0) -> list[Path]:
        """Temporary files left by writers that were killed between write and link."""
        if not self.base.exists():
            return []
        now = time.time()
        out = []
        for p in sorted(self.base.glob("??/.*.tmp")):
            with contextlib.suppress(FileNotFoundError):
                if now - p.stat().st_mtime >= older_than_s:
                    out.append(p)
        return out

    def verify(self, repair: bool = False) -> VerifyReport:
        """Check every record. With ``repair``: quarantine the damaged ones and delete
        temporary files old enough that no live writer can own them."""
        report = VerifyReport()
        for key in self.keys():
            path = self.path_for(key)
            got = self._read(path)
            if got.problem is not None:
                report.damaged.append(Damage(path, got.problem))
                if repair:
                    moved = self.quarantine(path, got.problem, got.inode, warn=False)
                    if moved is not None or not path.exists():
                        report.quarantined.append(moved or path)
            elif got.record is not None:
                report.records += 1
                report.unchecked += not got.checked
        report.stray_temp_files = self.stray_temp_files()
        if repair:
            for p in self.stray_temp_files(older_than_s=STALE_TEMP_S):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    report.removed_temp_files += 1
        return report

    def stats(self, group: Callable[[dict[str, Any]], str] | None = None,
              damaged: list[Path] | None = None) -> dict[str, dict[str, Any]]:
        """Counts and token totals per group (default: the record's ``stage``); damaged
        records are skipped (and listed in ``damaged`` when given)."""
        group = group or (lambda rec: str(rec.get("stage") or "-"))
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"records": 0, "prompt_tokens": 0, "completion_tokens": 0, "models": set(),
                     "first": None, "last": None}
        )
        for _, rec in self.items(damaged):
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

    def export(self, path: str | os.PathLike, keep: Callable[[dict[str, Any]], bool] | None = None,
               damaged: list[Path] | None = None) -> int:
        """Write every record (or those ``keep`` accepts) as JSONL ``{"key", "record"}``
        sorted by key, atomically; returns the count. Damaged records are skipped (and
        listed in ``damaged`` when given)."""
        n = 0
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for key, rec in self.items(damaged):
                if keep is not None and not keep(rec):
                    continue
                fh.write(json.dumps({"key": key, "record": rec}, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        os.replace(tmp, path)
        return n

    def import_(self, path: str | os.PathLike) -> ImportCounts:
        """Add the records of an exported file; returns (added, already present, repaired)."""
        return self.import_records(read_archive(path).items())

    def import_records(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> ImportCounts:
        """Add records whose key is absent; a damaged record is quarantined and replaced."""
        added = present = repaired = 0
        for key, rec in rows:
            current, moved = self.lookup(key)
            if current is None and self.put(key, rec):
                if moved is not None:
                    repaired += 1
                else:
                    added += 1
            else:
                present += 1
        return ImportCounts(added, present, repaired)


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
                raise ValueError(f"{path}:{lineno}: not a store export line ({exc})") from None
    return out


def exit_on_store_error() -> contextlib.AbstractContextManager[None]:
    """In a rule script: end the job on a StoreError with its one line and exit status 1,
    not a traceback (kodcode.snake.one_line_exit)."""
    from .snake import one_line_exit

    return one_line_exit(StoreError)
