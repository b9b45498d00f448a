"""ContentStore: the store's interface, over the packed layout (``packed.py``) and the
one-file-per-record layout it replaced (read as before until ``migrate`` packs it)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import heapq
import json
import logging
import os
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .fsutil import STALE_TEMP_S, gone_error, unwritable_error
from .packed import Engine, Options
from .records import (DamagedRecord, StoreError, add_meta, check_key, decode_record, encode_frame, has_checksum,
                      record_body, record_meta, rows_to_json)

log = logging.getLogger("kodcode.store")

_FOLDERS = tuple(f"{i:02x}" for i in range(256))
QUARANTINE = "quarantine"


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
    path: Path  # a one-file record, or ``<segment>@<offset>`` for a packed one
    reason: str


@dataclass
class VerifyReport:
    records: int = 0  # keys with a readable record
    unchecked: int = 0  # of those, one-file records written before checksums (only parsed)
    damaged: list[Damage] = field(default_factory=list)
    quarantined: list[Path] = field(default_factory=list)  # where --repair moved (or copied) the damaged ones
    stray_temp_files: list[Path] = field(default_factory=list)
    removed_temp_files: int = 0
    duplicates: int = 0  # packed records that lost a race for their key (kept until compaction)
    segments: int = 0  # packed segment files

    @property
    def clean(self) -> bool:
        return not self.damaged or len(self.quarantined) == len(self.damaged)


@dataclass(frozen=True)
class ContentStore:
    """Records under hex keys, first writer wins, in ``root/namespace``.

    ``options`` tunes the packed layout (``packed.Options``: segment size, fsync, ...)."""

    root: Path
    namespace: str
    options: Options | None = field(default=None, compare=False, repr=False)
    _engine: Engine = field(init=False, repr=False, compare=False)
    _legacy: list = field(default_factory=list, init=False, repr=False, compare=False)  # [shards with one-file records]

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        engine = Engine(self.base, self.quarantine_dir, self.options)
        object.__setattr__(self, "_engine", engine)
        weakref.finalize(self, engine.close_quietly)  # publish what this object wrote when it goes away

    @property
    def base(self) -> Path:
        return self.root / self.namespace

    @property
    def quarantine_dir(self) -> Path:
        return self.root / QUARANTINE / self.namespace

    def path_for(self, key: str) -> Path:
        """Where the one-file layout keeps ``key`` (new records go into segments)."""
        check_key(key)
        return self.base / key[:2] / f"{key}.json"

    # ------------------------------------------------------------------ one-file records
    def _legacy_shards(self) -> frozenset[str]:
        """The fan-out folders that hold one-file records (looked up once per object: new
        records never go there, only an older kodcode would add some)."""
        if not self._legacy:
            found = set()
            for name in _FOLDERS:
                with contextlib.suppress(OSError), os.scandir(self.base / name) as it:
                    if any(e.name.endswith(".json") and not e.name.startswith(".") for e in it):
                        found.add(name)
            self._legacy.append(frozenset(found))
        return self._legacy[0]

    def _legacy_keys(self, shard: str) -> list[str]:
        try:
            names = os.listdir(self.base / shard)
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".json") and not n.startswith("."))

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
            return _Read(decode_record(data), None, inode, has_checksum(data))
        except DamagedRecord as exc:
            return _Read(None, str(exc), inode)

    def quarantine(self, path: Path, reason: str, inode: int | None = None, warn: bool = True) -> Path | None:
        """Move a damaged one-file record aside (kept for inspection) and log where (``warn``);
        returns the new path, or None when another reader moved it first or it cannot be moved.
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

    def _legacy_lookup(self, key: str) -> tuple[dict[str, Any] | None, Path | None]:
        path = self.path_for(key)
        got = self._read(path)
        if got.problem is None:
            return got.record, None
        return None, self.quarantine(path, got.problem, got.inode)

    def _one_file_record(self, key: str, damaged: list[Path] | None) -> dict[str, Any] | None:
        """A one-file record for the readers that skip damage (items, stats, export): None when
        absent or damaged, a damaged one left in place and its path added to ``damaged``."""
        path = self.path_for(key)
        got = self._read(path)
        if got.problem is not None and damaged is not None:
            damaged.append(path)
        return got.record

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> dict[str, Any] | None:
        """The record under ``key``, or None when absent or damaged (a damaged one is moved or
        copied to the quarantine folder, so the caller can produce and store it again)."""
        return self.lookup(key)[0]

    def lookup(self, key: str) -> tuple[dict[str, Any] | None, Path | None]:
        """(record, None); (None, None) when absent; (None, where it went) when damaged."""
        check_key(key)
        eng = self._engine
        with eng.locked():
            if key in eng.pending_keys:
                eng.publish_own()  # returned only once published: then no other record can come first
            rec, moved = eng.winner(key)
            if rec is not None:
                return rec, None
            if key[:2] in self._legacy_shards():
                rec, lmoved = self._legacy_lookup(key)
                if rec is not None:
                    return rec, None
                moved = moved or lmoved
            v = eng.view
            before = (id(v), v.log_n if v is not None else 0)
            eng.refresh(scan=True)
            v = eng.view
            if (id(v), v.log_n if v is not None else 0) != before:
                rec, again = eng.winner(key)
                if rec is not None:
                    return rec, None
                moved = moved or again
            return None, moved

    def __contains__(self, key: str) -> bool:
        """A record is there (it may still turn out damaged on ``get``)."""
        check_key(key)
        eng = self._engine
        with eng.locked():
            if key in eng.pending_keys or eng.present(key, intact=False):
                return True
            if key[:2] in self._legacy_shards() and self.path_for(key).exists():
                return True
            eng.refresh(scan=True)
            return eng.present(key, intact=False)

    def location(self, key: str) -> str:
        """Where the key's record is, for messages: a one-file path or ``<segment>@<offset>``."""
        check_key(key)
        eng = self._engine
        with eng.locked():
            if key in eng.pending_keys:
                eng.publish_own()
            cands = eng.ensure_view().candidates(key)
            if cands:
                return eng.location(cands[0])
        return str(self.path_for(key))

    # ------------------------------------------------------------------ writing
    def put(self, key: str, record: dict[str, Any]) -> bool:
        """Store ``record`` under ``key`` unless an intact record is there already (first write
        wins). Returns True when this call wrote it. Raises StoreError when the store folder
        vanished or cannot be written."""
        check_key(key)
        frame = encode_frame(key, record_body(record), self._engine.opts.level)
        meta = record_meta(record)
        eng = self._engine
        with eng.locked():
            if not eng.ready:
                self.ensure_folders()
            if key[:2] in self._legacy_shards() and self.path_for(key).exists():
                return False
            return eng.put(key, frame, meta)

    def _put_packed(self, key: str, record: dict[str, Any]) -> bool:
        """``put`` that does not look at one-file records (``migrate`` packs them)."""
        frame = encode_frame(key, record_body(record), self._engine.opts.level)
        with self._engine.locked():
            return self._engine.put(key, frame, record_meta(record))

    def flush(self) -> None:
        """Publish what this object wrote now (it is published within seconds anyway): other
        processes see it at once, and it survives a power loss."""
        with self._engine.locked():
            self._engine.flush()

    def close(self) -> None:
        """Publish what this object wrote and close its files (also done when it is collected
        and at exit)."""
        self._engine.close()

    def ensure_folders(self) -> None:
        """Make the store's folders (one ``listdir`` when they exist), so that from then on a
        missing one means the store was deleted or unmounted under the run."""
        try:
            have = set(os.listdir(self.base)) if self.base.is_dir() else set()
            for name in sorted(set(_FOLDERS) - have):
                # the fan-out folders: where an older kodcode writes, so it can share the store
                (self.base / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unwritable_error(self.base, exc, self.base) from None
        with self._engine.locked():
            self._engine.ensure_folders()

    def _gone(self) -> StoreError:
        return gone_error(self.base)

    def _unwritable(self, exc: OSError, path: Path) -> StoreError:
        return unwritable_error(self.base, exc, path)

    # ------------------------------------------------------------------ scanning
    def _shard_groups(self, shard: int) -> list[tuple[str, list | None]]:
        """Sorted (key, packed records or None for a one-file record) of one shard."""
        eng = self._engine
        with eng.locked():
            packed = eng._retrying(lambda: list(eng.iter_shard(shard)))
        name = f"{shard:02x}"
        if name not in self._legacy_shards():
            return packed  # type: ignore[return-value]
        have = {k for k, _ in packed}
        legacy = [(k, None) for k in self._legacy_keys(name) if k not in have]
        return list(heapq.merge(packed, legacy, key=lambda kv: kv[0]))

    def _refresh_all(self) -> None:
        """Before counting or listing: publish our own records, catch up with the log and
        publish what other writers have not yet."""
        with self._engine.locked():
            if self.base.is_dir():
                self._engine.flush()
                self._engine.refresh(scan=True, force=True)

    def keys(self) -> Iterator[str]:
        """Every stored key, sorted."""
        self._refresh_all()
        for shard in range(256):
            for key, _ in self._shard_groups(shard):
                yield key

    def items(self, damaged: list[Path] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every readable record, sorted by key. Damaged records are skipped and left in
        place; where they are is appended to ``damaged`` when given."""
        self._refresh_all()
        eng = self._engine
        for shard in range(256):
            for key, cands in self._shard_groups(shard):
                if cands is None:
                    rec = self._one_file_record(key, damaged)
                    if rec is not None:
                        yield key, rec
                    continue
                with eng.locked():
                    rec = eng._retrying(lambda: eng.read_first(key, cands, damaged))
                if rec is not None:
                    yield key, rec

    def __len__(self) -> int:
        self._refresh_all()
        if not self._legacy_shards():
            with self._engine.locked():
                v = self._engine.ensure_view()
                return v.keys_count
        return sum(1 for _ in self.keys())

    def stray_temp_files(self, older_than_s: float = 0.0) -> list[Path]:
        """Temporary files left by processes killed while writing them."""
        if not self.base.exists():
            return []
        now = time.time()
        out = []
        for p in sorted([*self.base.glob("??/.*.tmp"), *self._engine.stray_temp_files()]):
            with contextlib.suppress(FileNotFoundError):
                if now - p.stat().st_mtime >= older_than_s:
                    out.append(p)
        return out

    def verify(self, repair: bool = False) -> VerifyReport:
        """Read and check every record. With ``repair``: quarantine the damaged ones (one-file
        records are moved; packed ones copied and from then on skipped) and delete temporary
        files old enough that no live process can own them."""
        report = VerifyReport()
        eng = self._engine
        # one-file records
        packed_keys_cache: dict[str, bool] = {}
        for shard in sorted(self._legacy_shards()):
            for key in self._legacy_keys(shard):
                path = self.path_for(key)
                got = self._read(path)
                if got.problem is not None:
                    report.damaged.append(Damage(path, got.problem))
                    if repair:
                        moved = self.quarantine(path, got.problem, got.inode, warn=False)
                        if moved is not None or not path.exists():
                            report.quarantined.append(moved or path)
                elif got.record is not None:
                    with eng.locked():
                        packed_keys_cache[key] = eng.present(key, intact=False)
                    if not packed_keys_cache[key]:
                        report.records += 1
                        report.unchecked += not got.checked
        # the index: a damaged checkpoint is rebuilt from the segments
        with eng.locked():
            broken = eng.damaged_checkpoint() if self.base.is_dir() else None
            if broken is not None:
                report.damaged.append(Damage(Path(broken.partition(": ")[0]), broken.partition(": ")[2]))
                if repair:
                    eng.rebuild()
                    report.quarantined.append(Path(broken.partition(": ")[0]))
        # packed records: every frame of every segment, then every key's first intact one
        self._refresh_all()
        bad: dict[tuple[str, int], list[Any]] = {}  # (segment, offset) -> [key, problem, bytes]
        with eng.locked():
            v = eng.ensure_view()
            report.segments = sum(1 for s in v.segs if s.retired is None)
            for seg, off, key, problem, data in eng.scan_all():
                if problem is not None:
                    bad[(seg.name, off)] = [key, problem, data]
        for shard in range(256):
            with eng.locked():
                groups = eng._retrying(lambda: list(eng.iter_shard(shard)))
                segs = eng.view.segs if eng.view is not None else []
            for key, cands in groups:
                ok = False
                for c in cands:
                    hit = bad.get((segs[c[1]].name, c[2]))
                    if hit is None:
                        ok = True
                    elif not hit[0]:
                        hit[0] = key  # a damaged header: the index knows whose record it was
                report.records += ok
                report.duplicates += max(len(cands) - 1, 0)
        with eng.locked():
            v = eng.ensure_view()
            for (name, off), (key, problem, data) in sorted(bad.items()):
                cand = (0, v.seg_no[name], off, len(data))
                key = key or "unknown"
                if eng.is_quarantined(key, cand):
                    continue  # repaired before: skipped by every reader
                report.damaged.append(Damage(Path(f"{eng.seg_dir / name}@{off}"), problem))
                if repair and data:
                    q = eng.quarantine_frame(key, cand, data, problem, warn=False)
                    if q is not None:
                        report.quarantined.append(q)
        report.stray_temp_files = self.stray_temp_files()
        if repair:
            for p in self.stray_temp_files(older_than_s=STALE_TEMP_S):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    report.removed_temp_files += 1
        return report

    def stats(self, group: Callable[[dict[str, Any]], str] | None = None,
              damaged: list[Path] | None = None) -> dict[str, dict[str, Any]]:
        """Counts and token totals per group (default: the record's ``stage``).

        With the default grouping the packed records are not read: their counts were worked
        out when they were written and are kept in the checkpoints and the log, so this takes
        milliseconds at any size (``verify`` is what reads every record). One-file records are
        read, and damaged ones skipped (and listed in ``damaged`` when given)."""
        if group is not None:
            rows: dict[str, dict[str, Any]] = {}
            for _, rec in self.items(damaged):
                meta = record_meta(rec)
                meta[0] = group(rec)
                add_meta(rows, meta)
            return rows_to_json(rows)
        self._refresh_all()
        eng = self._engine
        with eng.locked():
            rows = eng.stats_rows()
        for shard in sorted(self._legacy_shards()):
            for key in self._legacy_keys(shard):
                with eng.locked():
                    if eng.present(key, intact=False):
                        continue
                rec = self._one_file_record(key, damaged)
                if rec is not None:
                    add_meta(rows, record_meta(rec))
        return rows_to_json(rows)

    def export(self, path: str | os.PathLike, keep: Callable[[dict[str, Any]], bool] | None = None,
               damaged: list[Path] | None = None) -> int:
        """Write every record (or those ``keep`` accepts) as JSONL ``{"key", "record"}``
        sorted by key, atomically; returns the count. Damaged records are skipped (and
        listed in ``damaged`` when given)."""
        n = 0
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        eng = self._engine
        self._refresh_all()
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for shard in range(256):
                    for key, cands in self._shard_groups(shard):
                        if cands is None:  # a one-file record
                            rec = self._one_file_record(key, damaged)
                            if rec is None or (keep is not None and not keep(rec)):
                                continue
                            fh.write(json.dumps({"key": key, "record": rec}, ensure_ascii=False,
                                                sort_keys=True) + "\n")
                            n += 1
                            continue
                        with eng.locked():
                            body = eng._retrying(lambda: eng.read_first(key, cands, damaged, raw=True))
                        if body is None:
                            continue
                        text = body.decode("utf-8")
                        if keep is not None and not keep(json.loads(text)):
                            continue
                        # a packed record is kept as its sorted JSON, the very text json.dumps gives
                        # it inside the line: written as it is, without parsing and printing it again
                        fh.write('{"key": "' + key + '", "record": ' + text + "}\n")
                        n += 1
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
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
        self.flush()
        return ImportCounts(added, present, repaired)

    # ------------------------------------------------------------------ upkeep
    def compact(self, min_fill: float = 0.5) -> dict[str, int]:
        """Merge finished segments smaller than ``min_fill`` of the segment size, and rewrite
        those with many duplicates or damaged records, into full segments (see
        ``packed.Engine.compact``). Returns counts of what it did."""
        self.ensure_folders()
        with self._engine.locked():
            return self._engine.compact(min_fill=min_fill)

    def checkpoint(self) -> bool:
        """Fold the log into a new checkpoint now (writers do it on their own as the log grows)."""
        self.ensure_folders()
        with self._engine.locked():
            self._engine.flush()
            self._engine.refresh(scan=True, force=True)
            return self._engine.checkpoint(force=True)


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
    from ..snake import one_line_exit

    return one_line_exit(StoreError)


__all__ = ["ContentStore", "Damage", "ImportCounts", "VerifyReport", "QUARANTINE", "read_archive",
           "exit_on_store_error"]
