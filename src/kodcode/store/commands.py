"""What ``kodcode store migrate`` and ``kodcode store compact`` do, for the command line to call:
each prints a short report and returns the exit status (0 done, 2 the store cannot be used, with
one line on stderr naming it and what to do)."""

from __future__ import annotations

import sys
from pathlib import Path

from .content import ContentStore
from .migration import MigrateCounts, legacy_namespaces, migrate
from .records import StoreError


def migrate_command(root: str | Path, namespaces: list[str] | None = None) -> int:
    """``kodcode store migrate [--root R] [--namespace NS ...]``: pack one-file records."""
    root = Path(root)
    if not root.is_dir():
        print(f"kodcode store migrate: no store at {root}; check --root", file=sys.stderr)
        return 2
    todo = namespaces if namespaces else legacy_namespaces(root)
    if not todo:
        print(f"{root}: nothing to migrate (no one-file records)")
        return 0

    def progress(ns: str, c: MigrateCounts) -> None:
        print(f"{root / ns}: {c.packed + c.present} records packed so far", file=sys.stderr, flush=True)

    try:
        counts = migrate(root, todo, progress=progress)
    except StoreError as exc:
        print(f"kodcode store migrate: {exc}", file=sys.stderr)
        return 2
    for ns, c in counts.items():
        line = f"{root / ns}: {c.packed} records packed, {c.present} already packed, {c.removed} files removed"
        if c.damaged:
            line += f", {c.damaged} damaged records moved to {root / 'quarantine' / ns} (produced again when needed)"
        if c.temp_files:
            line += f", {c.temp_files} stale temporary files deleted"
        if c.skipped:
            line += f", {c.skipped} files that are not records left alone"
        print(line)
    return 0


def compact_command(root: str | Path, namespace: str) -> int:
    """``kodcode store compact [--root R] [--namespace NS]``: merge small finished segments and
    drop duplicates and damaged records."""
    store = ContentStore(root, namespace)
    if not store.base.is_dir():
        print(f"kodcode store compact: no store at {store.base}; check --root and --namespace", file=sys.stderr)
        return 2
    try:
        done = store.compact()
    except StoreError as exc:
        print(f"kodcode store compact: {exc}", file=sys.stderr)
        return 2
    if not done["segments_merged"]:
        print(f"{store.base}: nothing to compact")
        return 0
    print(f"{store.base}: {done['segments_merged']} segments ({done['bytes_before'] / 1e6:.1f} MB) rewritten as "
          f"{done['segments_written']} ({done['bytes_after'] / 1e6:.1f} MB): {done['records_copied']} records kept, "
          f"{done['duplicates_dropped']} duplicates and {done['damaged_dropped']} damaged records dropped")
    return 0
