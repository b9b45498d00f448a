"""The ``kodcode store`` command (stats, export, import, verify, migrate, compact): look into, publish, load and
check the content store, whether it holds LLM responses or test verdicts (``--namespace``).

``kodcode.cli`` finds it through ``register``; it lives beside the LLM layer because the
response store is that layer's, and the verdicts share its format."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from ..store import ContentStore, StoreError, read_archive
from ..store.commands import compact_command, migrate_command

DEFAULT_ROOT = ".kodcode/store"
DEFAULT_NAMESPACE = "responses"
SHOW_DAMAGED = 10  # damaged paths listed by verify; the rest are counted


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("store", help="the response store: stats, export, import, verify, migrate, compact")
    sub = p.add_subparsers(dest="store_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--root", default=DEFAULT_ROOT, help=f"store folder (default {DEFAULT_ROOT})")
        q.add_argument("--namespace", default=DEFAULT_NAMESPACE,
                       help=f"records kind: responses (LLM) or verdicts (executor) (default {DEFAULT_NAMESPACE})")

    s = sub.add_parser("stats", help="records and token totals per stage")
    common(s)
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=_guarded(cmd_stats))

    e = sub.add_parser("export", help="write the store (or some stages) to one JSONL file, sorted by key")
    common(e)
    e.add_argument("file")
    e.add_argument("--stage", action="append", default=[], help="only this stage (repeatable)")
    e.set_defaults(func=_guarded(cmd_export))

    i = sub.add_parser("import", help="add the records of exported files; keeps existing keys, replaces damaged ones")
    common(i)
    i.add_argument("files", nargs="+")
    i.set_defaults(func=_guarded(cmd_import))

    v = sub.add_parser("verify", help="check every record's checksum; exit status 1 if damage is left")
    common(v)
    v.add_argument("--repair", action="store_true",
                   help="quarantine damaged records in ROOT/quarantine/NAMESPACE and delete stale temporary files")
    v.set_defaults(func=_guarded(cmd_verify))

    m = sub.add_parser("migrate", help="pack a one-file-per-record store into segments (safe to interrupt and rerun)")
    m.add_argument("--root", default=DEFAULT_ROOT, help=f"store folder (default {DEFAULT_ROOT})")
    m.add_argument("--namespace", action="append", default=[], help="only this namespace (repeatable; default all)")
    m.set_defaults(func=_guarded(lambda a: migrate_command(a.root, a.namespace or None)))

    c = sub.add_parser("compact", help="merge small finished segments and drop duplicates and damaged records")
    common(c)
    c.set_defaults(func=_guarded(lambda a: compact_command(a.root, a.namespace)))


def _guarded(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A store that cannot be read or written: its one line and exit status 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return cmd(args)
        except StoreError as exc:
            print(f"kodcode store {args.store_command}: {exc}", file=sys.stderr)
            return 2
    return run


def _store(args: argparse.Namespace) -> ContentStore:
    return ContentStore(args.root, args.namespace)


def _skipped(damaged: list[Path], store: ContentStore) -> None:
    if damaged:
        print(f"skipped {len(damaged)} damaged records (list them with: kodcode store verify --root {store.root} "
              f"--namespace {store.namespace})", file=sys.stderr)


def cmd_stats(args: argparse.Namespace) -> int:
    store = _store(args)
    damaged: list[Path] = []
    rows = store.stats(damaged=damaged)
    stray = store.stray_temp_files()
    if args.json:
        print(json.dumps({"root": str(store.base), "stages": rows, "stray_temp_files": len(stray),
                          "damaged_records": len(damaged)}, indent=2, sort_keys=True))
        return 0
    _skipped(damaged, store)
    if not rows:
        print(f"{store.base}: empty")
        return 0
    header = f"{'stage':<28} {'records':>9} {'prompt tok':>12} {'completion tok':>15}  models"
    print(header)
    print("-" * len(header))
    tot = [0, 0, 0]
    for stage, r in rows.items():
        print(f"{stage:<28} {r['records']:>9} {r['prompt_tokens']:>12} {r['completion_tokens']:>15}  {', '.join(r['models'])}")
        tot[0] += r["records"]
        tot[1] += r["prompt_tokens"]
        tot[2] += r["completion_tokens"]
    print("-" * len(header))
    print(f"{'total':<28} {tot[0]:>9} {tot[1]:>12} {tot[2]:>15}")
    if stray:
        print(f"{len(stray)} temporary files left by killed writers (harmless; safe to delete)", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    stages = set(args.stage)
    keep = (lambda rec: rec.get("stage") in stages) if stages else None
    store = _store(args)
    damaged: list[Path] = []
    n = store.export(args.file, keep=keep, damaged=damaged)
    print(f"exported {n} records to {args.file}")
    _skipped(damaged, store)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    store = _store(args)
    totals = [0, 0, 0]
    for path in args.files:
        try:
            counts = store.import_records(read_archive(path).items())
        except (OSError, ValueError) as exc:
            print(f"kodcode store import: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: {_import_line(*counts)}")
        totals = [a + b for a, b in zip(totals, counts)]
    if len(args.files) > 1:
        print(f"total: {_import_line(*totals)}")
    return 0


def _import_line(added: int, present: int, repaired: int) -> str:
    line = f"{added} added, {present} already present"
    return line + (f", {repaired} damaged records repaired" if repaired else "")


def cmd_verify(args: argparse.Namespace) -> int:
    store = _store(args)
    report = store.verify(repair=args.repair)
    legacy = f" ({report.unchecked} from before checksums: parsed only)" if report.unchecked else ""
    print(f"{store.base}: {report.records} good records{legacy}, {len(report.damaged)} damaged, "
          f"{len(report.stray_temp_files)} temporary files")
    for d in report.damaged[:SHOW_DAMAGED]:
        print(f"  damaged: {d.path} ({d.reason})")
    if len(report.damaged) > SHOW_DAMAGED:
        print(f"  ... and {len(report.damaged) - SHOW_DAMAGED} more")
    if args.repair:
        if report.quarantined:
            print(f"quarantined {len(report.quarantined)} damaged records in {store.quarantine_dir}; "
                  "the next run produces them again")
        if report.removed_temp_files:
            print(f"removed {report.removed_temp_files} temporary files left by killed writers")
        young = len(report.stray_temp_files) - report.removed_temp_files
        if young:
            print(f"kept {young} temporary files younger than an hour (a running writer may own them)")
    elif report.damaged:
        print(f"repair: kodcode store verify --repair --root {store.root} --namespace {store.namespace} "
              f"(quarantines them in {store.quarantine_dir}; the next run produces them again)")
    if not report.clean:
        if args.repair:
            print(f"kodcode store verify: {len(report.damaged) - len(report.quarantined)} damaged records could "
                  f"not be quarantined in {store.quarantine_dir}; check its permissions", file=sys.stderr)
        return 1
    return 0
