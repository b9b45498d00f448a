"""The packed layout: segment files, the publication log and checkpoints (see docs/store.md).

Under ``<root>/<namespace>/``:

``segments/<utc>-<host>-<pid>-<random>.seg``
    Append-only files of frames (``records.py``). Each is created with ``O_EXCL`` under a name
    no other process can pick and only that process ever writes it, so writers need no lock,
    on NFS too. A writer starts a new one at ``segment_max`` bytes, after half an hour idle,
    and in a forked child.
``log/<N>`` (twelve digits)
    The publication log. Entry N says which bytes of which segments are published and lists
    their records (key, offset, length, whether it is the first record of its key, and what
    ``stats`` counts). It is written to a temporary file and hard-linked to the next free
    number; ``link`` fails when the name exists, so among processes racing for N exactly one
    wins and the others move on to N+1. Entries therefore form one sequence that every reader
    agrees on, and a name can only exist once every lower one does (a writer only tries N+1
    after seeing N), so what a reader has replayed is always a prefix of it.
``checkpoints/<N>-<gen>.ckpt``
    The state after replaying entries 1..N, so that readers do not replay the whole log: the
    segment list, counts and ``stats`` totals, and one index of every published record sorted
    by (key, publication order) with a fence key per block of 64 entries. A reader keeps the
    fences in memory and reads one 3 KB block per look-up; the 256 key-prefix shards are
    contiguous ranges of that index. Written whole, fsynced, then linked into place. Its index
    may hold only what came after a *base* (an older checkpoint's full index, which it names)
    while that stays under a quarter of the base: then a checkpoint costs in proportion to
    what is new, not to the whole store.

**Who wins.** The record of a key that comes first in publication order (checkpoint, then
log entries in number order, then offset within an entry) is the key's record; later ones are
duplicates (two writers that raced) and are never returned while it is readable. A reader only
returns published records, and what it has replayed is a prefix of the one sequence, so once
any reader has returned a record no reader can later find an earlier one: the choice is
stable. Records not yet published (a writer publishes its own every 5 seconds or 16384
records, at the end of a batch and at exit; ``get`` publishes one before returning it) are
published by whoever finds them when looking for a key it misses, so a killed writer's records
are not lost.

**Durability.** ``put`` returns once the frame is written into the segment with one
``write``: a killed process loses nothing it was told was stored. An entry is linked only once
the segment bytes it publishes and the entry itself are fsynced (and the folder after), so
published records survive a power loss in the order they were published; with ``fsync=True``
(or ``KODCODE_STORE_FSYNC=1``) every ``put`` is fsynced too, so nothing acknowledged is lost
even then. A frame cut short by a crash fails its checksum and ends what is published of that
segment.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import socket
import stat
import threading
import time
import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .fsutil import (CLOEXEC, ESTALE, STALE_TEMP_S, Stale, claim_marker, fdatasync, fsync_path,
                     gone_error, link_exclusive, mtime_of, path_exists, read_published, remove_published,
                     unreadable_error, unwritable_error, write_file)
from .index import (BLOCK, ENT, Cand, Compaction, DamagedCheckpoint, SegInfo, View, open_view, read_manifest, unpack,
                    write_checkpoint)
from .records import (BAD, OK, SHORT, DamagedRecord, StoreError, add_meta, decode_frame, decode_payload, frame_body,
                      frame_payload_ok, key_from33, merge_rows, parse_header, record_meta, rows_from_json,
                      rows_to_json)

log = logging.getLogger("kodcode.store")

SEGMENTS, LOG, CHECKPOINTS = "segments", "log", "checkpoints"
SEG_MAGIC = b"KCSEG01\n"
SEG_SUFFIX = ".seg"
LOG_MAGIC = b"KCLOG1\n"
_CKPT_NAME = re.compile(r"^(\d{12})-(\d{4})\.ckpt$")
_LOG_NAME = re.compile(r"^\d{12}$")


@dataclass
class Options:
    """Tuning of the packed layout; the defaults are meant for runs of millions of records."""

    segment_max: int = 1 << 30  # bytes per segment file (offsets in the index are 32-bit)
    level: int = 6  # zlib level
    fsync: bool = field(default_factory=lambda: os.environ.get("KODCODE_STORE_FSYNC", "") not in ("", "0"))
    publish_records: int = 16384  # a writer publishes its records at least this often ...
    publish_bytes: int = 64 << 20
    publish_s: float = 5.0  # ... and this soon after the first unpublished one, at its next put
    rescan_s: float = 1.0  # a miss looks for unpublished records at most this often
    checkpoint_min: int = 50_000  # records replayed from the log before a new checkpoint is due,
    checkpoint_max: int = 200_000  # else an eighth of the store, within these bounds
    checkpoint_entries: int = 4096  # or this many log entries
    abandon_s: float = 3600.0  # a segment unchanged this long has no live writer
    idle_rotate_s: float = 1800.0  # a writer idle this long starts a new segment (half of abandon_s)
    log_grace_s: float = 120.0  # checkpointed log entries are kept this long
    ckpt_grace_s: float = 120.0  # a superseded checkpoint is kept this long
    build_stale_s: float = 900.0  # a checkpoint build marker older than this was left by a dead builder


# ------------------------------------------------------------------ checkpoints


# ------------------------------------------------------------------ the replayed state


@dataclass
class Pending:
    key: str
    off: int
    length: int
    meta: Any  # list, or a callable that works it out (records found in another writer's segment)


# ------------------------------------------------------------------ the engine


_LIVE: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def _publish_all_at_exit() -> None:
    for engine in list(_LIVE):
        engine.close_quietly()


import atexit  # noqa: E402 - registered once, next to what it runs

atexit.register(_publish_all_at_exit)


class Engine:
    """The packed store of one namespace, as one process sees and writes it. Thread-safe."""

    def __init__(self, base: Path, quarantine_dir: Path, opts: Options | None = None) -> None:
        self.base = base
        self.qdir = quarantine_dir
        self.opts = opts or Options()
        self.seg_dir, self.log_dir, self.ckpt_dir = base / SEGMENTS, base / LOG, base / CHECKPOINTS
        self._seg_s, self._log_s = str(self.seg_dir), str(self.log_dir)  # plain strings on the hot paths
        self._lock = threading.RLock()
        self.pid = os.getpid()
        self.view: View | None = None
        self.ready = False  # the folders were there (or made): from now on a missing one means the store went away
        self.seg_fd: int | None = None
        self.seg_name: str | None = None
        self.seg_size = 0
        self.seg_touched = 0.0
        self.pending: list[Pending] = []
        self.pending_keys: dict[str, Pending] = {}
        self.pending_since = 0.0
        self.pending_bytes = 0
        self.fds: OrderedDict[str, int] = OrderedDict()
        self.last_rescan = float("-inf")
        self._missing_is_damage = False
        self._dir_synced: set[str] = set()  # segments whose folder entry this process has fsynced
        self._warned: set[str] = set()
        _LIVE.add(self)

    # ------------------------------------------------------------------ plumbing
    def locked(self) -> threading.RLock:
        """The engine's lock (a fresh one, and fresh writer state, in a forked child)."""
        if self.pid != os.getpid():
            self._after_fork()
        return self._lock  # type: ignore[return-value]

    def _after_fork(self) -> None:
        """A forked child shares the parent's segment: it must never append to it, and the
        unpublished records are the parent's to publish."""
        self._lock = threading.RLock()
        self.pid = os.getpid()
        if self.seg_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.seg_fd)
        self.seg_fd, self.seg_name, self.seg_size = None, None, 0
        self.pending, self.pending_keys, self.pending_bytes = [], {}, 0
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = OrderedDict()

    def _warn_once(self, what: str, msg: str, *args: Any) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning(msg, *args)

    def ensure_folders(self) -> None:
        for d in (self.seg_dir, self.log_dir, self.ckpt_dir):
            if not d.is_dir():
                try:
                    d.mkdir(parents=True, exist_ok=True)
                except FileNotFoundError:
                    raise gone_error(self.base) from None
                except OSError as exc:
                    raise unwritable_error(self.base, exc, d) from None
        self.ready = True

    def _fd(self, name: str) -> int:
        fd = self.fds.get(name)
        if fd is not None:
            self.fds.move_to_end(name)
            return fd
        try:
            fd = os.open(f"{self._seg_s}/{name}", os.O_RDONLY | CLOEXEC)
        except FileNotFoundError:
            raise Stale() from None
        except OSError as exc:
            if exc.errno == ESTALE:
                raise Stale() from None
            raise unreadable_error(self.seg_dir / name, exc) from None
        self.fds[name] = fd
        while len(self.fds) > 64:
            _, old = self.fds.popitem(last=False)
            os.close(old)
        return fd

    def _drop_fd(self, name: str) -> None:
        fd = self.fds.pop(name, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _pread(self, name: str, length: int, off: int) -> bytes:
        try:
            return os.pread(self._fd(name), length, off)
        except OSError as exc:
            if exc.errno == ESTALE:
                self._drop_fd(name)
                raise Stale() from None
            raise unreadable_error(self.seg_dir / name, exc) from None

    # ------------------------------------------------------------------ the view
    def _checkpoint_names(self) -> list[tuple[int, int, str]]:
        try:
            names = os.listdir(self.ckpt_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise unreadable_error(self.ckpt_dir, exc) from None
        out = []
        for name in names:
            m = _CKPT_NAME.match(name)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), name))
        return sorted(out, reverse=True)

    def _load_view(self, names: list[tuple[int, int, str]] | None = None) -> View:
        for _n, _gen, name in names if names is not None else self._checkpoint_names():
            try:
                return open_view(self.ckpt_dir, name)
            except FileNotFoundError:
                continue  # collected meanwhile
            except (DamagedCheckpoint, ValueError, KeyError, OSError) as exc:
                self._warn_once(f"ckpt:{name}", "store checkpoint %s is damaged (%s); using an older one. Run "
                                "kodcode store verify --repair to rebuild it", self.ckpt_dir / name, exc)
        return View(None)

    def ensure_view(self) -> View:
        if self.view is None:
            self.view = self._load_view()
            self._replay(follow=False)
        return self.view

    def reload(self) -> None:
        """Start again from the newest checkpoint (a file we pointed into is gone)."""
        old, self.view = self.view, None
        for name in list(self.fds):
            self._drop_fd(name)
        self.ensure_view()
        if old is not None:
            old.close()

    def _reload_newer(self) -> None:
        """Switch to a newer checkpoint than ours, when one covers at least what we replayed
        (or lets us replay that far): never go back to a shorter prefix."""
        v = self.ensure_view()
        names = self._checkpoint_names()
        if not names or (names[0][0], names[0][1]) <= (v.ckpt_n, v.ckpt_gen):
            return
        new = self._load_view(names)
        if new.ckpt is None:
            return
        old, self.view = self.view, new
        self._replay(follow=False)
        if new.log_n < old.log_n:
            self.view = old
            new.close()
            return
        for name in list(self.fds):
            self._drop_fd(name)
        old.close()

    def _read_entry(self, n: int) -> dict[str, Any] | None:
        path = f"{self._log_s}/{n:012d}"
        try:
            data = read_published(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == ESTALE:
                return None
            raise unreadable_error(path, exc) from None
        try:
            if not data.startswith(LOG_MAGIC) or len(data) < len(LOG_MAGIC) + 10:
                raise ValueError("not a log entry")
            body, crc = data[len(LOG_MAGIC):-10], data[-9:-1]
            if f"{zlib.crc32(body):08x}".encode() != crc:
                raise ValueError("checksum does not match")
            return json.loads(body)
        except ValueError as exc:
            # every reader sees the same damaged file and skips it the same way; what it
            # published is found unpublished again and published anew
            self._warn_once(f"log:{n}", "store log entry %s is damaged (%s); skipped, its records will be "
                            "published again", path, exc)
            return {"ranges": [], "records": []}

    def _replay(self, follow: bool = True) -> None:
        v = self.view
        assert v is not None
        while True:
            entry = self._read_entry(v.log_n + 1)
            if entry is None:
                break
            v.apply(entry)
            v.log_n += 1
        # the next entry is missing: nobody wrote it yet, or garbage collection took it because
        # a newer checkpoint holds it. Collection removes entries oldest first, so in that case
        # the last one we replayed (or our checkpoint) is gone too: one stat tells
        if not follow:
            return
        if v.log_n > v.ckpt_n:
            last: str | Path = f"{self._log_s}/{v.log_n:012d}"
        elif v.ckpt is not None:
            last = v.ckpt.path
        else:
            return
        if not path_exists(last):
            self._reload_newer()

    def refresh(self, scan: bool, force: bool = False) -> None:
        """Catch up with the log; at most every ``rescan_s`` (or when ``force``) also look for a
        newer checkpoint and, with ``scan``, publish records other writers have not yet."""
        self.ensure_view()
        self._replay()
        now = time.monotonic()
        if force or now - self.last_rescan >= self.opts.rescan_s:
            self.last_rescan = now
            self._reload_newer()
            if scan:
                self._scan_tails()

    # ------------------------------------------------------------------ reading
    def _seg_name(self, no: int) -> str:
        assert self.view is not None
        return self.view.segs[no].name

    def _read_frame(self, key: str, cand: Cand, raw: bool = False) -> tuple[Any, bytes, str | None]:
        """(record, bytes, None), or (None, bytes, why) for a damaged record; a second read
        through a fresh descriptor first, so that stale cached pages (NFS) are not taken for
        damage. ``raw``: the record's JSON text instead of the dict."""
        _, no, off, length = cand
        name = self._seg_name(no)
        problem = ""
        data = b""
        for attempt in range(2):
            if attempt:
                self._drop_fd(name)
            try:
                data = self._pread(name, length, off)
            except Stale:
                if not self._missing_is_damage:
                    raise
                return None, b"", "its segment file is missing"
            try:
                return (frame_body(data, key) if raw else decode_frame(data, key)), data, None
            except DamagedRecord as exc:
                problem = str(exc)
        return None, data, problem

    def _frame_ok(self, key: str, cand: Cand) -> bool:
        _, no, off, length = cand
        try:
            data = self._pread(self._seg_name(no), length, off)
        except Stale:
            if not self._missing_is_damage:
                raise
            return False
        status, frame = parse_header(data)
        return (status == OK and frame is not None and frame.key == key
                and frame_payload_ok(frame, memoryview(data)[frame.header_len:frame.length]))

    def _retrying(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; when a file it reads is gone (compaction or collection by another
        process), start from the newest checkpoint and run it again. A segment still missing
        then is lost: its records read as damaged."""
        try:
            return fn()
        except Stale:
            self.reload()
        self._missing_is_damage = True
        try:
            return fn()
        finally:
            self._missing_is_damage = False

    def winner(self, key: str) -> tuple[dict[str, Any] | None, Path | None]:
        """The key's record: its first intact published one. Damaged ones on the way are
        copied to the quarantine folder (once) and skipped."""
        def go() -> tuple[dict[str, Any] | None, Path | None]:
            moved = None
            for cand in self.ensure_view().candidates(key):
                rec, data, problem = self._read_frame(key, cand)
                if rec is not None:
                    return rec, moved
                moved = moved or self.quarantine_frame(key, cand, data, problem or "damaged")
            return None, moved
        return self._retrying(go)

    def present(self, key: str, intact: bool) -> bool:
        def go() -> bool:
            cands = self.ensure_view().candidates(key)
            if not intact:
                return bool(cands)
            return any(self._frame_ok(key, c) for c in cands)
        return self._retrying(go)

    def location(self, cand: Cand) -> str:
        _, no, off, _ = cand
        return f"{self.seg_dir / self._seg_name(no)}@{off}"

    def quarantine_frame(self, key: str, cand: Cand, data: bytes, problem: str, warn: bool = True) -> Path | None:
        """Keep a copy of a damaged record under ``quarantine/<namespace>/``; the segment is
        not changed (others may be reading it), the record is skipped wherever it is found.
        Returns the copy's path (made now or before), or None when it cannot be made."""
        path = self._qpath(key, cand)
        if path.exists():
            return path
        try:
            self.qdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return path
        except OSError as exc:
            self._warn_once(f"q:{path}", "damaged store record %s in %s (%s); could not copy it to %s (%s); it is "
                            "skipped", key, self.location(cand), problem, self.qdir, exc.strerror or exc)
            return None
        with open(fd, "wb") as fh:
            fh.write(data)
        if warn:
            log.warning("damaged store record %s in %s (%s): skipped, a copy is in %s; it will be produced again",
                        key, self.location(cand), problem, path)
        return path

    def _qpath(self, key: str, cand: Cand) -> Path:
        """One name per damaged record (key, segment, offset): many readers finding it make one copy."""
        _, no, off, _ = cand
        return self.qdir / f"{key}.{self._seg_name(no).rsplit('.', 1)[0]}.{off}.rec"

    def is_quarantined(self, key: str, cand: Cand) -> bool:
        return self._qpath(key, cand).exists()

    # ------------------------------------------------------------------ writing
    def put(self, key: str, frame: bytes, meta: list[Any]) -> bool:
        """Append the record unless the key has an intact record (published, or this
        process's own unpublished one). True when this call appended it."""
        if key in self.pending_keys:
            return False
        self.refresh(scan=False)  # catch up with the log first: fewer duplicates
        if self.present(key, intact=True):
            return False
        self._append(key, frame, meta)
        self._maybe_publish()
        return True

    def _append(self, key: str, frame: bytes, meta: list[Any]) -> None:
        now = time.monotonic()
        limit = min(self.opts.segment_max, (1 << 32) - 1)
        if self.seg_fd is not None and (self.seg_size + len(frame) > limit
                                        or now - self.seg_touched > self.opts.idle_rotate_s):
            self.close_segment()
        if self.seg_fd is None:
            self._open_segment()
        assert self.seg_fd is not None and self.seg_name is not None
        for _ in range(2):
            try:
                st = os.fstat(self.seg_fd)
            except OSError as exc:
                raise (gone_error(self.base) if exc.errno in (errno.ENOENT, ESTALE) else
                       unwritable_error(self.base, exc, self.seg_dir / self.seg_name)) from None
            if st.st_nlink == 0:  # deleted under us: writing on would lose records
                raise gone_error(self.base)
            if st.st_size == self.seg_size:
                break
            # cut or appended to by someone else: our offsets would be wrong, so leave it
            self._warn_once(f"changed:{self.seg_name}", "store segment %s was changed by another program (%d bytes, "
                            "%d expected); continuing in a new one", self.seg_dir / self.seg_name, st.st_size,
                            self.seg_size)
            self._abandon_segment()
            self._open_segment()
            assert self.seg_fd is not None and self.seg_name is not None
        off = self.seg_size
        try:
            view = memoryview(frame)
            while view:
                view = view[os.write(self.seg_fd, view):]
            if self.opts.fsync:
                fdatasync(self.seg_fd)
        except OSError as exc:
            path = self.seg_dir / self.seg_name
            self._abandon_segment()
            if exc.errno in (errno.ENOENT, ESTALE):
                raise gone_error(self.base) from None
            raise unwritable_error(self.base, exc, path) from None
        self.seg_size += len(frame)
        self.seg_touched = now
        if not self.pending:
            self.pending_since = now
        p = Pending(key, off, len(frame), meta)
        self.pending.append(p)
        self.pending_keys[key] = p
        self.pending_bytes += len(frame)

    def _open_segment(self) -> None:
        if not self.ready:
            self.ensure_folders()
        host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:40] or "host"
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{host}-{os.getpid()}-{secrets.token_hex(4)}{SEG_SUFFIX}"
        path = self.seg_dir / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileNotFoundError:
            raise gone_error(self.base) from None
        except OSError as exc:
            raise unwritable_error(self.base, exc, path) from None
        try:
            os.write(fd, SEG_MAGIC)
            if self.opts.fsync:
                os.fsync(fd)
                fsync_path(self.seg_dir)
        except OSError as exc:
            os.close(fd)
            raise unwritable_error(self.base, exc, path) from None
        self.seg_fd, self.seg_name, self.seg_size = fd, name, len(SEG_MAGIC)
        self.seg_touched = time.monotonic()

    def _abandon_segment(self) -> None:
        """After a failed write the segment's end may hold part of a frame: publish what is
        whole and never append to it again."""
        fd, self.seg_fd = self.seg_fd, None
        with contextlib.suppress(Exception):
            self.publish_own(final=True, fd=fd)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.seg_name = None
        self.pending, self.pending_keys, self.pending_bytes = [], {}, 0

    def close_segment(self) -> None:
        if self.seg_fd is None:
            return
        self.publish_own(final=True)
        with contextlib.suppress(OSError):
            os.close(self.seg_fd)
        self.seg_fd, self.seg_name, self.seg_size = None, None, 0

    def _maybe_publish(self) -> None:
        if (len(self.pending) >= self.opts.publish_records or self.pending_bytes >= self.opts.publish_bytes
                or time.monotonic() - self.pending_since >= self.opts.publish_s):
            self.publish_own()

    def publish_own(self, final: bool = False, fd: int | None = None) -> None:
        """Publish this process's unpublished records (with ``final``: and that its segment ends here)."""
        if self.seg_name is None or (not self.pending and not final):
            return
        fd = self.seg_fd if fd is None else fd
        if fd is not None:
            with contextlib.suppress(OSError):
                fdatasync(fd)  # the bytes an entry points to must be on disk (and, on NFS, on the server) first
        recs = [(self.seg_name, p.key, p.off, p.length, p.meta) for p in self.pending]
        end = self.pending[-1].off + self.pending[-1].length if self.pending else self.seg_size
        self._publish([(self.seg_name, end, final)], recs, synced={self.seg_name})
        self.pending, self.pending_keys, self.pending_bytes = [], {}, 0
        self.maybe_checkpoint()

    def flush(self) -> None:
        """Publish what this process wrote: from then on it survives a power loss (segment
        bytes, log entry and folders are fsynced)."""
        if self.pending:
            self.publish_own()

    def close_quietly(self) -> None:
        """``close`` when the object goes away or at exit: a store that vanished has nothing left to publish."""
        with contextlib.suppress(Exception):
            self.close()

    def close(self) -> None:
        """Publish what this process wrote and let go of its segment (it is never appended to again)."""
        if self.pid != os.getpid():
            return
        with self.locked():
            if self.seg_fd is not None:
                self.close_segment()
            for name in list(self.fds):
                self._drop_fd(name)

    # ------------------------------------------------------------------ publishing
    def _publish(self, ranges: list[tuple[str, int, bool]], recs: list[tuple[str, str, int, int, Any]],
                 synced: set[str] | frozenset[str] = frozenset()) -> None:
        """Link one log entry publishing ``ranges`` (segment, end, final) and their records
        (segment, key, offset, length, meta) at the next free number."""
        for name, _end, _final in ranges:
            if name not in synced:
                fsync_path(self.seg_dir / name)
        if not self.ready:
            self.ensure_folders()
        token = secrets.token_hex(6)
        for attempt in range(10_000):
            self._replay()
            v = self.view
            assert v is not None
            entry = _compose(v, ranges, recs)
            if entry is None:
                return
            n = v.log_n + 1
            if not self._slot_ok(n):  # our view is behind garbage collection: start from the newest checkpoint
                self.reload()
                continue
            body = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            data = LOG_MAGIC + body + f"\n{zlib.crc32(body):08x}\n".encode()
            tmp = self.log_dir / f".{n:012d}.{token}.tmp"
            # fsynced, then linked, then the folder fsynced: a published entry survives a power
            # loss, so the order readers saw (who won a race) is the order after it too
            won = self._link_new(tmp, self.log_dir / f"{n:012d}", lambda t: write_file(t, data, True))
            if won:
                fsync_path(self.log_dir)
                new_names = {r[0] for r in ranges} - self._dir_synced
                if new_names:  # the segments' own names must survive too
                    fsync_path(self.seg_dir)
                    self._dir_synced |= new_names
                v.apply(entry)
                v.log_n = n
                return
        raise StoreError(f"store {self.base}: could not publish to its log {self.log_dir} (every entry number "
                         "was taken); check that its files are not being deleted, then rerun")

    def _link_new(self, tmp: Path, dest: Path, write: Callable[[Path], Any]) -> bool:
        """Write ``tmp`` with ``write`` and link it to ``dest`` unless that name exists (the
        first to link wins); the temporary name is always removed. False: someone else won."""
        try:
            write(tmp)
            return link_exclusive(tmp, dest)
        except FileNotFoundError:
            raise gone_error(self.base) from None
        except OSError as exc:
            raise unwritable_error(self.base, exc, tmp) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _slot_ok(self, n: int) -> bool:
        """Entry n may be written only right after one that exists (or our checkpoint): a
        number freed by garbage collection is never taken again."""
        v = self.view
        assert v is not None
        if n - 1 == v.ckpt_n:
            return True
        return path_exists(self.log_dir / f"{n - 1:012d}")

    # ------------------------------------------------------------------ other writers' records
    def _scan_tails(self) -> None:
        """Publish records in other writers' segments that no entry has published yet (a
        writer between publications, or one that was killed)."""
        v = self.view
        assert v is not None
        try:
            names = sorted(n for n in os.listdir(self.seg_dir) if n.endswith(SEG_SUFFIX) and not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise unreadable_error(self.seg_dir, exc) from None
        ranges: list[tuple[str, int, bool]] = []
        recs: list[tuple[str, str, int, int, Any]] = []
        budget = 256 << 20
        now = time.time()
        for name in names:
            if name == self.seg_name or budget <= 0:
                continue
            no = v.seg_no.get(name)
            seg = v.segs[no] if no is not None else None
            if seg is not None and (seg.final or seg.retired is not None):
                continue
            path = self.seg_dir / name
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            start = seg.end if seg is not None else 0
            abandoned = now - st.st_mtime > self.opts.abandon_s
            if st.st_size <= max(start, len(SEG_MAGIC)):
                if abandoned:
                    ranges.append((name, start, True))
                continue
            stop = min(st.st_size, start + budget)
            found, end, whole = self._scan_segment(name, start, stop, abandoned)
            budget -= stop - start
            recs.extend(found)
            final = abandoned and whole and stop == st.st_size  # nobody will append to it again
            if found or final:
                ranges.append((name, end, final))
        if ranges:
            self._publish(ranges, recs)

    def _scan_segment(self, name: str, start: int, stop: int, abandoned: bool,
                      on_record: Callable[[tuple[str, str, int, int, Any]], None] | None = None,
                      ) -> tuple[list[tuple[str, str, int, int, Any]], int, bool]:
        """Whole, intact frames in ``[start, stop)``: (records, where they end, whether the scan
        reached ``stop``), read 16 MB at a time. In a live segment it stops at the first frame
        that is not (yet) whole; in an abandoned one it skips damage and a torn end. With
        ``on_record`` each record goes there instead of into the list."""
        out: list[tuple[str, str, int, int, Any]] = []
        emit = on_record if on_record is not None else out.append
        pos = start  # absolute offset of the next frame
        if start == 0:
            try:
                head = self._pread(name, len(SEG_MAGIC), 0)
            except Stale:
                return out, start, False
            if head != SEG_MAGIC:
                if len(head) == len(SEG_MAGIC) or not SEG_MAGIC.startswith(head):
                    self._warn_once(f"notseg:{name}", "%s is not a store segment; ignored", self.seg_dir / name)
                return out, start, False
            pos = len(SEG_MAGIC)
        good_end = pos
        chunk = 16 << 20
        while pos < stop:
            requested = min(chunk, stop - pos)
            try:
                data = self._pread(name, requested, pos)
            except Stale:
                return out, good_end, False
            if not data:
                break
            more_on_disk = len(data) == requested and pos + len(data) < stop
            buf = memoryview(data)
            i = 0
            while i < len(data):
                status, frame = parse_header(buf, i)
                if status == OK and frame is not None and i + frame.length <= len(data):
                    payload = buf[i + frame.header_len:i + frame.length]
                    if frame_payload_ok(frame, payload):
                        emit((name, frame.key, pos + i, frame.length, _lazy_meta(frame, bytes(payload))))
                    elif not abandoned:  # a live writer never leaves a whole bad frame: not written yet (NFS)
                        return out, good_end, False
                    else:
                        self._warn_once(f"dmg:{name}:{pos + i}", "damaged record at byte %d of abandoned store "
                                        "segment %s; skipped", pos + i, self.seg_dir / name)
                    i += frame.length
                    good_end = pos + i
                    continue
                if status == BAD:
                    if not abandoned:
                        return out, good_end, False
                    nxt = _resync(buf, i + 1)
                    if nxt < 0 and more_on_disk:
                        i = max(i + 1, len(data) - 64 * 1024)  # the next frame may start in the next read
                        break
                    self._warn_once(f"dmg:{name}:{pos + i}", "%d damaged bytes at byte %d of abandoned store "
                                    "segment %s; skipped", (nxt if nxt >= 0 else len(data)) - i, pos + i,
                                    self.seg_dir / name)
                    if nxt < 0:
                        return out, good_end, True
                    i = nxt
                    good_end = pos + i
                    continue
                # SHORT, or a whole header whose frame runs past this read
                if more_on_disk and i:
                    break  # read on from the frame's start
                if more_on_disk and status == OK and frame is not None and frame.length > requested:
                    chunk = frame.length  # a frame larger than the read size
                    break
                # not written yet, or (abandoned) cut short by a killed writer: never acknowledged
                return out, good_end, abandoned
            pos += i
        return out, good_end, pos >= stop

    # ------------------------------------------------------------------ checkpoints
    def maybe_checkpoint(self) -> None:
        v = self.view
        if v is None:
            return
        due = min(max(v.ckpt_records // 8, self.opts.checkpoint_min), self.opts.checkpoint_max)
        if v.tail_records >= due or v.entries_since >= self.opts.checkpoint_entries:
            self.checkpoint()

    @contextlib.contextmanager
    def _build_claim(self, required: bool) -> Iterator[Path | None]:
        """Hold the checkpoint build marker (one builder at a time) for the block and release it
        after. Another process holds it: None, or with ``required`` a one-line StoreError."""
        if not self.ready:
            self.ensure_folders()
        claim = self.ckpt_dir / ".build"
        if not claim_marker(claim, self.opts.build_stale_s):
            if required:
                raise StoreError(f"store {self.base}: another process is writing a checkpoint ({claim}); try again "
                                 "in a few minutes (delete that file if no kodcode process is running)")
            yield None
            return
        try:
            yield claim
        finally:
            with contextlib.suppress(OSError):
                os.unlink(claim)

    def checkpoint(self, force: bool = False) -> bool:
        """Write a checkpoint of everything replayed so far, unless another process is building
        one, and collect what it makes obsolete. Returns whether this call wrote one."""
        with self._build_claim(required=False) as claim:
            if claim is None:  # another process is building one
                return False
            self._reload_newer()  # build on the newest: it may hold a compaction's moves
            self._replay()
            v = self.view
            assert v is not None
            if not force and v.log_n == v.ckpt_n and v.ckpt is not None:
                return False
            return self._write_and_switch(Compaction())

    def _write_and_switch(self, comp: "Compaction") -> bool:
        """Write the checkpoint of the view (with compaction ``comp``'s changes), link it into
        place, switch to it and collect. The caller holds the build marker."""
        v = self.view
        assert v is not None
        gen = 0
        if comp.retire:  # same log position as the checkpoint it rewrites: a higher generation
            gen = max([g + 1 for n, g, _ in self._checkpoint_names() if n == v.log_n] + [1])
        # two levels: a new checkpoint only rewrites what came after the last full index (the
        # base) while that stays under a quarter of the base; then everything is merged into a
        # new base. Each record is so rewritten a bounded number of times at any store size.
        base_name = None
        if not (comp.retire or comp.drop or comp.relocate) and v.ckpt is not None:
            base = v.base or v.ckpt
            delta = (v.ckpt.n_entries if v.base is not None else 0) + v.tail_records
            if delta * 4 <= base.n_entries:
                base_name = base.path.name
        path = self.ckpt_dir / f"{v.log_n:012d}-{gen:04d}.ckpt"
        tmp = self.ckpt_dir / f".{path.name}.{secrets.token_hex(6)}.tmp"
        won = self._link_new(tmp, path, lambda t: write_checkpoint(t, v, gen, comp, base_name))
        fsync_path(self.ckpt_dir)
        try:
            new = open_view(self.ckpt_dir, path.name)
        except (FileNotFoundError, DamagedCheckpoint):
            return won
        old, self.view = self.view, new
        self._replay()
        for name in list(self.fds):
            self._drop_fd(name)
        old.close()
        self.collect()
        return won

    def compact(self, min_fill: float = 0.5, dead_share: float = 0.2) -> dict[str, int]:
        """Copy the live records of finished segments that are small (under ``min_fill`` of
        ``segment_max``) or hold many dead bytes (over ``dead_share``: duplicates that lost
        their race, damaged records) into new full segments, and retire the old ones (deleted
        after ``log_grace_s``, once no reader can still be using them). Who wins does not
        change: a key's record is copied, its duplicates are dropped."""
        out = {"segments_merged": 0, "records_copied": 0, "duplicates_dropped": 0, "damaged_dropped": 0,
               "bytes_before": 0, "bytes_after": 0, "segments_written": 0}
        with self._build_claim(required=True) as claim:
            self.flush()
            self.refresh(scan=True, force=True)
            self._reload_newer()
            self._replay()
            v = self.view
            assert v is not None
            limit = min(self.opts.segment_max, (1 << 32) - 1)
            eligible = {no for no, s in enumerate(v.segs)
                        if s.final and s.retired is None and s.name != self.seg_name}
            live: dict[int, int] = {}
            dead: dict[int, int] = {}
            winners: list[tuple[int, int, int, int, str]] = []  # segment, offset, length, order, key
            losers: list[tuple[int, int]] = []
            for shard in range(256):
                for key, cands in self.iter_shard(shard):
                    if len(cands) > 1 and any(c[1] in eligible for c in cands):
                        # duplicates about to be dropped: make sure the one kept is readable
                        first = next((c for c in cands if not self.is_quarantined(key, c) and self._frame_ok(key, c)),
                                     None)
                    else:
                        first = cands[0] if not self.is_quarantined(key, cands[0]) else None
                    for c in cands:
                        if c is first:
                            live[c[1]] = live.get(c[1], 0) + c[3]
                            if c[1] in eligible:
                                winners.append((c[1], c[2], c[3], c[0], key))
                        else:
                            dead[c[1]] = dead.get(c[1], 0) + c[3]
                            if c[1] in eligible:
                                losers.append((c[1], c[2]))
            victims = {no for no in eligible
                       if v.segs[no].end < min_fill * limit or dead.get(no, 0) > dead_share * v.segs[no].end}
            if len(victims) < 2 and not any(dead.get(no) for no in victims):
                return out  # nothing to merge and nothing to drop
            comp = Compaction(retire=victims)
            comp.drop = {(no, off) for no, off in losers if no in victims}
            out["duplicates_dropped"] = len(comp.drop)
            out["bytes_before"] = sum(v.segs[no].end for no in victims)
            writer = _SegmentWriter(self.seg_dir, limit, ".cseg")
            last_touch = time.monotonic()
            try:
                for no, off, length, seq, key in sorted(w for w in winners if w[0] in victims):
                    data = self._pread(v.segs[no].name, length, off)
                    status, frame = parse_header(data)
                    if (status != OK or frame is None or frame.key != key
                            or not frame_payload_ok(frame, memoryview(data)[frame.header_len:frame.length])):
                        self.quarantine_frame(key, (seq, no, off, length), data, "damaged", warn=True)
                        comp.drop.add((no, off))
                        out["damaged_dropped"] += 1
                        continue
                    comp.relocate[(no, off)] = writer.append(data)
                    out["records_copied"] += 1
                    if time.monotonic() - last_touch > 60:  # still building: keep the marker fresh
                        with contextlib.suppress(OSError):
                            os.utime(claim)
                        last_touch = time.monotonic()
                comp.new_segs = writer.finish()
            except BaseException:
                writer.discard()
                raise
            self._replay()
            self._write_and_switch(comp)
            out["segments_merged"] = len(victims)
            out["segments_written"] = len(comp.new_segs)
            out["bytes_after"] = sum(s.end for s in comp.new_segs)
            return out

    def damaged_checkpoint(self) -> str | None:
        """Why the newest checkpoint file cannot be used (manifest or an index block fails its
        checksum), or None when it is sound (or there is none)."""
        names = self._checkpoint_names()
        if not names:
            return None
        path = self.ckpt_dir / names[0][2]
        try:
            view = open_view(self.ckpt_dir, names[0][2])
        except FileNotFoundError:
            return None
        except (DamagedCheckpoint, ValueError, KeyError, OSError) as exc:
            return f"{path}: {exc}"
        try:
            for ck in view.levels():
                for i in range(ck.n_blocks):
                    data = ck._pread(min(BLOCK, ck.n_entries - i * BLOCK) * ENT, ck.index_at + i * BLOCK * ENT)
                    if zlib.crc32(data) != ck.crcs[i]:
                        return f"{ck.path}: index block {i} fails its checksum"
        except Stale:
            return None
        finally:
            view.close()
        return None

    def rebuild(self) -> int:
        """Write a new checkpoint from the segment files themselves, for when the checkpoint
        is damaged and the log it folded is gone. Records are ordered by segment (as the last
        readable manifest listed them, then by name) and offset; a key written twice in a race
        may therefore resolve to the other record than before. Returns the records indexed."""
        with self._build_claim(required=True) as claim:
            names = self._checkpoint_names()
            manifest: dict[str, Any] = {}
            for _n, _g, name in names:
                with contextlib.suppress(Exception):
                    manifest = read_manifest(self.ckpt_dir / name)
                    break
            known = {s[0]: SegInfo(*s) for s in manifest.get("segments", [])}
            try:
                files = sorted(n for n in os.listdir(self.seg_dir) if n.endswith((SEG_SUFFIX, ".cseg")))
            except FileNotFoundError:
                files = []
            order = [n for n in known if n in set(files)] + [n for n in files if n not in known]
            try:
                top = max([int(n) for n in os.listdir(self.log_dir) if _LOG_NAME.match(n)] + [0])
            except FileNotFoundError:
                top = 0
            v = View(None)
            v.log_n = v.ckpt_n = max(top, manifest.get("log", 0))
            if self.view is not None:
                self.view.close()
            for fname in list(self.fds):
                self._drop_fd(fname)
            self.view = v
            now = time.time()
            for name in order:
                info = known.get(name)
                if info is not None and info.retired is not None:
                    continue
                no = v.segno(name)
                try:
                    st = os.stat(self.seg_dir / name)
                except FileNotFoundError:
                    continue
                done = (info is not None and info.final) or name.endswith(".cseg") or now - st.st_mtime > self.opts.abandon_s
                def add(r: tuple[str, str, int, int, Any], no: int = no) -> None:
                    _, key, off, length, meta = r
                    cand = (v.next_seq, no, off, length)
                    v.next_seq += 1
                    v.tail_records += 1
                    if key in v.tail:
                        v.tail[key].append(cand)
                    else:
                        v.tail[key] = [cand]
                        v.tail_keys += 1
                        add_meta(v.tail_rows, meta())

                _, end, _whole = self._scan_segment(name, 0, st.st_size, done, on_record=add)
                v.segs[no].end = end
                v.segs[no].final = done
            gen = max([g + 1 for n, g, _ in names if n == v.log_n] + [1])
            path = self.ckpt_dir / f"{v.log_n:012d}-{gen:04d}.ckpt"
            tmp = self.ckpt_dir / f".{path.name}.{secrets.token_hex(6)}.tmp"
            try:
                write_checkpoint(tmp, v, gen, Compaction())
                os.replace(tmp, path)  # nobody else builds while we hold the marker
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            fsync_path(self.ckpt_dir)
            for _n, _g, name in names:  # the damaged ones would otherwise still be tried first
                with contextlib.suppress(OSError):
                    if (_n, _g) > (v.log_n, gen):
                        remove_published(self.ckpt_dir / name)
            self.view = None
            self.ensure_view()
            return v.tail_records

    def collect(self) -> None:
        """Delete what no reader needs any more: superseded checkpoints (after ``ckpt_grace_s``),
        checkpointed log entries (after ``log_grace_s``), retired segments (after
        ``log_grace_s``) and temporary files of dead processes. Readers that still pointed into
        a deleted file reload the newest checkpoint."""
        now = time.time()
        names = self._checkpoint_names()
        if not names:
            return
        keep = {names[0][2]}
        with contextlib.suppress(Exception):
            keep.add(read_manifest(self.ckpt_dir / names[0][2]).get("base") or names[0][2])
        for newer, (_n, _g, name) in zip(names, names[1:]):
            with contextlib.suppress(OSError):
                if name not in keep and now - mtime_of(self.ckpt_dir / newer[2]) > self.opts.ckpt_grace_s:
                    remove_published(self.ckpt_dir / name)
        newest_n = names[0][0]
        try:
            entries = os.listdir(self.log_dir)
        except OSError:
            entries = []
        for name in sorted(entries):
            path = self.log_dir / name
            with contextlib.suppress(OSError):
                if _LOG_NAME.match(name):
                    if int(name) <= newest_n and now - mtime_of(path) > self.opts.log_grace_s:
                        remove_published(path)
                elif name.startswith(".") and now - mtime_of(path) > STALE_TEMP_S:
                    remove_published(path)
        v = self.view
        if v is not None:
            for seg in v.segs:
                if seg.retired is not None and now - seg.retired > self.opts.log_grace_s:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.seg_dir / seg.name)
            with contextlib.suppress(OSError):
                for name in os.listdir(self.seg_dir):  # a compaction that died before its checkpoint
                    if name.endswith(".cseg") and name not in v.seg_no:
                        with contextlib.suppress(OSError):
                            if now - mtime_of(self.seg_dir / name) > STALE_TEMP_S:
                                os.unlink(self.seg_dir / name)

    # ------------------------------------------------------------------ scanning everything
    def iter_shard(self, shard: int) -> Iterator[tuple[str, list[Cand]]]:
        """(key, records in publication order) for every published key of one shard, sorted."""
        v = self.ensure_view()
        groups: dict[str, list[Cand]] = {}
        for level in v.levels():
            raw = level.shard_raw(shard)
            for pos in range(0, len(raw), ENT):
                k = raw[pos:pos + 33]
                key = key_from33(k)
                c = unpack(raw, pos)
                have = groups.get(key)
                if have is None:
                    groups[key] = [c]
                else:
                    have.append(c)
        prefix = f"{shard:02x}"
        for key, cands in v.tail.items():
            if key.startswith(prefix):
                groups.setdefault(key, []).extend(cands)
        for key in sorted(groups):
            yield key, groups[key]

    def read_first(self, key: str, cands: list[Cand], damaged: list[Path] | None, raw: bool = False) -> Any:
        """The first intact record among ``cands`` (``raw``: its JSON text); damaged ones are
        listed, not moved."""
        for cand in cands:
            rec, _, _ = self._read_frame(key, cand, raw)
            if rec is not None:
                return rec
            if damaged is not None and not self.is_quarantined(key, cand):
                damaged.append(Path(self.location(cand)))
        return None

    def stats_rows(self) -> dict[str, dict[str, Any]]:
        v = self.ensure_view()
        rows = rows_from_json(rows_to_json(v.ckpt_rows))
        merge_rows(rows, v.tail_rows)
        return rows

    def scan_all(self) -> Iterator[tuple[SegInfo, int, str, str | None, bytes]]:
        """Every frame in the published part of every segment, in file order: (segment, offset,
        key, problem or None, bytes). Damaged stretches are reported once each."""
        v = self.ensure_view()
        for no, seg in enumerate(list(v.segs)):
            if seg.retired is not None or seg.end <= len(SEG_MAGIC):
                continue
            pos, chunk = len(SEG_MAGIC), 8 << 20
            while pos < seg.end:
                try:
                    data = self._pread(seg.name, min(chunk, seg.end - pos), pos)
                except Stale:
                    yield seg, pos, "", "segment file is missing", b""
                    break
                if not data:
                    yield seg, pos, "", f"segment ends at byte {pos}, {seg.end - pos} published bytes are missing", b""
                    break
                buf = memoryview(data)
                i = 0
                status, frame = BAD, None
                while i < len(data):
                    status, frame = parse_header(buf, i)
                    if status == OK and frame is not None and i + frame.length <= len(data):
                        whole = bytes(buf[i:i + frame.length])
                        try:
                            decode_payload(frame, buf[i + frame.header_len:i + frame.length])
                            yield seg, pos + i, frame.key, None, whole
                        except DamagedRecord as exc:
                            yield seg, pos + i, frame.key, str(exc), whole
                        i += frame.length
                        continue
                    if status == BAD:
                        nxt = _resync(buf, i + 1)
                        stop = nxt if nxt >= 0 else len(data)
                        yield seg, pos + i, "", "damaged bytes (not a record)", bytes(buf[i:stop])
                        i = stop
                        continue
                    break  # a frame that goes on past this read
                if i == 0:
                    if status == OK and frame is not None and pos + frame.length <= seg.end:
                        chunk = frame.length  # a record larger than the read size: read it whole
                        continue
                    yield seg, pos, "", "cut short", bytes(data)
                    break
                pos += i

    def stray_temp_files(self) -> list[Path]:
        out = []
        for d in (self.log_dir, self.ckpt_dir):
            with contextlib.suppress(OSError):
                out.extend(d / n for n in os.listdir(d) if n.startswith(".") and (".tmp" in n) and n != ".build")
        return out


# ------------------------------------------------------------------ entries


def _compose(v: View, ranges: list[tuple[str, int, bool]], recs: list[tuple[str, str, int, int, Any]]
             ) -> dict[str, Any] | None:
    """The log entry publishing what is new in ``ranges``/``recs`` for a reader at ``v``, or
    None when there is nothing new. Whether a record is the first of its key is decided here,
    against exactly the state the entry is replayed onto, so every reader agrees with it."""
    index: dict[str, int] = {}
    out_ranges: list[list[Any]] = []
    advance = False
    starts: dict[str, int] = {}
    for name, end, final in ranges:
        no = v.seg_no.get(name)
        seg = v.segs[no] if no is not None else None
        if seg is not None and seg.retired is not None:
            continue
        start = seg.end if seg is not None else 0
        starts[name] = start
        if end > start or (final and not (seg is not None and seg.final)):
            advance = True
        index[name] = len(out_ranges)
        out_ranges.append([name, max(end, start), bool(final)])
    out_recs: list[list[Any]] = []
    seen: set[str] = set()
    for name, key, off, length, meta in recs:
        if name not in index or off < starts[name]:
            continue
        winner = key not in seen and not v.has(key)
        seen.add(key)
        if winner and callable(meta):
            meta = meta()
        out_recs.append([index[name], key, off, length, 1 if winner else 0, meta if winner else None])
    if not out_recs and not advance:
        return None
    return {"ranges": out_ranges, "records": out_recs}


def _lazy_meta(frame: Any, payload: bytes) -> Callable[[], list[Any]]:
    def meta() -> list[Any]:
        try:
            return record_meta(decode_payload(frame, payload))
        except DamagedRecord:
            return ["-", 0, 0, None, None]
    return meta


def _resync(buf: memoryview, pos: int) -> int:
    """The offset of the next valid frame header at or after ``pos``, or -1."""
    data = bytes(buf)
    while True:
        pos = data.find(b"KCr1", pos)
        if pos < 0:
            return -1
        status, _ = parse_header(buf, pos)
        if status == OK:
            return pos
        pos += 1


# ------------------------------------------------------------------ writing a checkpoint


class _SegmentWriter:
    """Compaction's output: full, finished segments (``.cseg``: never scanned for unpublished
    records, as only a checkpoint can make them visible)."""

    def __init__(self, folder: Path, limit: int, suffix: str) -> None:
        self.folder, self.limit, self.suffix = folder, limit, suffix
        self.done: list[SegInfo] = []
        self.fh: Any = None
        self.name = ""
        self.size = 0

    def append(self, frame: bytes) -> tuple[int, int]:
        if self.fh is None or self.size + len(frame) > self.limit:
            self._next()
        off = self.size
        self.fh.write(frame)
        self.size += len(frame)
        return len(self.done) - 1, off

    def _next(self) -> None:
        self._close()
        host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:40] or "host"
        self.name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{host}-{os.getpid()}-{secrets.token_hex(4)}{self.suffix}"
        self.fh = open(self.folder / self.name, "xb")
        self.fh.write(SEG_MAGIC)
        self.size = len(SEG_MAGIC)
        self.done.append(SegInfo(self.name, 0, True))

    def _close(self) -> None:
        if self.fh is not None:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            self.fh = None
            self.done[-1].end = self.size

    def finish(self) -> list[SegInfo]:
        self._close()
        fsync_path(self.folder)
        return self.done

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._close()
        for seg in self.done:
            with contextlib.suppress(OSError):
                os.unlink(self.folder / seg.name)


# ------------------------------------------------------------------ file helpers


