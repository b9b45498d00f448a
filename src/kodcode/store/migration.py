"""Pack a one-file-per-record store into segments: ``migrate(root)``.

Each one-file record is read and checked, appended to a segment, published, and only after
the publication is fsynced (segment, log entry and their folders) is its file deleted. A crash
at any point leaves every record readable (as a file, packed, or both, with the same content,
and the packed copy wins), and running ``migrate`` again finishes the job: records already
packed are not packed twice, their files are just deleted. A damaged record is moved to
``quarantine/<namespace>/`` as a lookup would, not packed. Other processes may keep reading and
writing the store meanwhile (a record is readable as a file until its packed copy is published).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .content import QUARANTINE, ContentStore
from .fsutil import STALE_TEMP_S
from .packed import Options
from .records import MAX_KEY, MIN_KEY

log = logging.getLogger("kodcode.store")
BATCH = 4096  # records published (and their files deleted) at a time


@dataclass
class MigrateCounts:
    packed: int = 0  # one-file records copied into segments
    present: int = 0  # already packed (an interrupted migrate, or written since): only their files deleted
    damaged: int = 0  # moved to quarantine, not packed
    removed: int = 0  # one-file records deleted once packed
    temp_files: int = 0  # stale temporary files of killed writers deleted
    skipped: int = 0  # files in the fan-out folders that are not records (left alone)


def legacy_namespaces(root: Path) -> list[str]:
    """Namespaces under ``root`` that still have one-file records."""
    out = []
    with contextlib.suppress(FileNotFoundError):
        for d in sorted(root.iterdir()):
            if d.is_dir() and d.name != QUARANTINE and any(_records(d)):
                out.append(d.name)
    return out


def _records(base: Path):
    for i in range(256):
        folder = base / f"{i:02x}"
        with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".json") and not e.name.startswith("."):
                    yield folder / e.name


def migrate(root: str | os.PathLike, namespaces: list[str] | None = None,
            progress: Callable[[str, MigrateCounts], None] | None = None) -> dict[str, MigrateCounts]:
    """Pack every one-file record under ``root`` (or only ``namespaces``) into segments and
    delete the files; idempotent and safe to interrupt. Returns the counts per namespace.
    ``progress(namespace, counts)`` is called after each batch."""
    root = Path(root)
    out: dict[str, MigrateCounts] = {}
    for ns in namespaces if namespaces is not None else legacy_namespaces(root):
        counts = out[ns] = MigrateCounts()
        store = ContentStore(root, ns, Options(publish_records=1 << 30, publish_bytes=1 << 62, publish_s=1e9))
        if not store.base.is_dir():
            continue
        store.ensure_folders()
        done: list[Path] = []
        for path in sorted(_records(store.base)):
            key = path.name[:-5]
            if not (MIN_KEY <= len(key) <= MAX_KEY) or path.parent.name != key[:2] or key.strip("0123456789abcdef"):
                counts.skipped += 1
                continue
            got = store._read(path)
            if got.problem is not None:
                if store.quarantine(path, got.problem, got.inode) is not None:
                    counts.damaged += 1
                continue
            if got.record is None:  # gone meanwhile
                continue
            if store._put_packed(key, got.record):
                counts.packed += 1
            else:
                counts.present += 1
            done.append(path)
            if len(done) >= BATCH:
                _finish(store, done, counts)
                if progress is not None:
                    progress(ns, counts)
        _finish(store, done, counts)
        now = time.time()
        for tmp in store.base.glob("??/.*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > STALE_TEMP_S:
                    tmp.unlink()
                    counts.temp_files += 1
        store.checkpoint()
        store.close()
        if progress is not None:
            progress(ns, counts)
    return out


def _finish(store: ContentStore, done: list[Path], counts: MigrateCounts) -> None:
    """Publish the batch (fsynced: segment, log entry, folders), then delete its files."""
    store.flush()
    for path in done:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            counts.removed += 1
    done.clear()
