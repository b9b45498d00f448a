"""Filesystem steps the store is built from, each chosen to be safe on NFS: exclusive
publication of a finished file (hard link, or renaming a folder where there are no hard links),
reading what was published that way, fsyncs, and the errors a vanished or unwritable store
raises (one line each, saying what to do)."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import time
from pathlib import Path

from .records import StoreError

ESTALE = getattr(errno, "ESTALE", 116)

CLOEXEC = getattr(os, "O_CLOEXEC", 0)

fdatasync = getattr(os, "fdatasync", os.fsync)  # macOS has only fsync

STALE_TEMP_S = 3600.0  # a temporary file this old belongs to no live process

class Stale(Exception):
    """A file the view points into is gone (compaction, garbage collection): reload and retry."""


def gone_error(base: Path) -> StoreError:
    return StoreError(
        f"store folder {base} disappeared during the run (deleted or unmounted?); stopped so that new "
        "results are not silently lost. Restore or remount it (or point 'store' at a new folder) and rerun: "
        "results already in the store are reused and only the rest is produced again")


def unwritable_error(base: Path, exc: OSError, path: Path | str) -> StoreError:
    return StoreError(
        f"cannot write to store {base} ({exc.strerror or exc}: {path}); stopped so that new results are "
        "not silently lost. The results stored so far are safe; free space or fix permissions, then rerun: "
        "only the rest is produced again")


def unreadable_error(path: Path | str, exc: OSError) -> StoreError:
    return StoreError(f"cannot read store file {path} ({exc.strerror or exc}); check the store folder's "
                      "permissions and mount")


def link_exclusive(src: Path, dst: Path) -> bool:
    """Publish ``src`` under ``dst`` unless ``dst`` exists; True when this call did. A hard
    link is atomic and exclusive on local filesystems and NFS. Where there are no hard links,
    ``src`` goes into a fresh folder that is renamed to ``dst``: renaming a folder onto an
    existing non-empty one fails, so that is exclusive too (readers look inside)."""
    try:
        os.link(src, dst)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        raise
    except OSError:
        pass
    holder = src.with_name(src.name + ".d")
    os.mkdir(holder)
    try:
        os.rename(src, holder / "entry")
        try:
            os.rename(holder, dst)
            return True
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                return False
            raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(holder / "entry")
        with contextlib.suppress(OSError):
            os.rmdir(holder)

def open_published(path: Path | str) -> int:
    """Open a published file, or the file inside the folder that stands for it (no hard links)."""
    fd = os.open(path, os.O_RDONLY | CLOEXEC)
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        fd = os.open(os.path.join(path, "entry"), os.O_RDONLY | CLOEXEC)
    return fd

def read_published(path: Path | str) -> bytes:
    fd = open_published(path)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)

def remove_published(path: Path) -> None:
    try:
        os.unlink(path)
    except IsADirectoryError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path / "entry")
        os.rmdir(path)
    except PermissionError:
        if not path.is_dir():
            raise
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path / "entry")
        os.rmdir(path)

def write_file(path: Path, data: bytes, fsync: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)  # on NFS, close sends the data: it is on the server before the link

def fsync_path(path: Path) -> None:
    """Flush a file's written pages (this host's cache of another process's segment) or a
    folder's entries (a new name survives a power loss); best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

def path_exists(path: Path | str) -> bool:
    try:
        os.stat(path)
        return True
    except OSError:
        return False

def mtime_of(path: Path) -> float:
    return os.stat(path).st_mtime

def claim_marker(path: Path, stale_s: float) -> bool:
    """A marker that one process is building a checkpoint, so that others do not build the
    same one at once. Only saves work: two builders would write the same file."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
            os.close(fd)
            return True
        except FileExistsError:
            try:
                if time.time() - mtime_of(path) < stale_s:
                    return False
                os.unlink(path)
            except FileNotFoundError:
                continue
    return False

