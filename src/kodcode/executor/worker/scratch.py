"""Plain mode inside a container: put the container's scratch places back after each attempt.

Without per-attempt namespaces every attempt of a worker sees the same ``/tmp`` (the base
folder, a tmpfs of the container) and ``/dev/shm``. Whatever an attempt leaves there would
reach the next attempts, so the worker records what those places hold before its first
attempt (its own files: the attempt folder, matplotlib's configuration) and, after each
attempt, once its processes are dead, deletes everything that was not there. A recorded file
an attempt changed is deleted too: it cannot be restored, and nothing the worker needs reads
it again (caches are read once, at start-up).
"""

from __future__ import annotations

import os
import shutil

SHM = "/dev/shm"


def _state(path: str) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def snapshot(roots: list[str]) -> dict[str, tuple[int, int, int]]:
    """Every path below ``roots`` (the roots themselves excluded) and its inode, size and mtime."""
    out: dict[str, tuple[int, int, int]] = {}
    for root in roots:
        if not os.path.isdir(root):
            continue
        for top, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(top, name)
                try:
                    out[path] = _state(path)
                except OSError:
                    pass
    return out


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    except OSError:
        pass


def restore(roots: list[str], recorded: dict[str, tuple[int, int, int]], keep_dir: str) -> int:
    """Delete what is below ``roots`` and not in ``recorded`` (or changed since), except
    ``keep_dir`` itself (the attempt folder, emptied by its owner); the number removed."""
    removed = 0
    for root in roots:
        if not os.path.isdir(root):
            continue
        for top, dirs, files in os.walk(root, topdown=True):
            for name in list(dirs):
                path = os.path.join(top, name)
                if path == keep_dir:
                    dirs.remove(name)
                    continue
                try:
                    same = recorded.get(path) == _state(path)
                except OSError:
                    same = False
                if not same:  # a new or replaced folder goes whole
                    _remove(path)
                    dirs.remove(name)
                    removed += 1
            for name in files:
                path = os.path.join(top, name)
                try:
                    same = recorded.get(path) == _state(path)
                except OSError:
                    same = False
                if not same:
                    _remove(path)
                    removed += 1
    return removed
