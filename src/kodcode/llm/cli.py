"""``kodcode store stats|export|import``: look into, publish and load the response store."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..store import ContentStore, read_archive

DEFAULT_ROOT = ".kodcode/store"
DEFAULT_NAMESPACE = "responses"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("store", help="the response store: stats, export, import")
    sub = p.add_subparsers(dest="store_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--root", default=DEFAULT_ROOT, help=f"store folder (default {DEFAULT_ROOT})")
        q.add_argument("--namespace", default=DEFAULT_NAMESPACE,
                       help=f"records kind: responses (LLM) or another helper's namespace (default {DEFAULT_NAMESPACE})")

    s = sub.add_parser("stats", help="records and token totals per stage")
    common(s)
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=cmd_stats)

    e = sub.add_parser("export", help="write the store (or some stages) to one JSONL file, sorted by key")
    common(e)
    e.add_argument("file")
    e.add_argument("--stage", action="append", default=[], help="only this stage (repeatable)")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("import", help="add the records of exported files; existing keys are kept")
    common(i)
    i.add_argument("files", nargs="+")
    i.set_defaults(func=cmd_import)


def _store(args: argparse.Namespace) -> ContentStore:
    return ContentStore(args.root, args.namespace)


def cmd_stats(args: argparse.Namespace) -> int:
    store = _store(args)
    rows = store.stats()
    stray = store.stray_temp_files()
    if args.json:
        print(json.dumps({"root": str(store.base), "stages": rows, "stray_temp_files": len(stray)}, indent=2, sort_keys=True))
        return 0
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
    n = _store(args).export(args.file, keep=keep)
    print(f"exported {n} records to {args.file}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    store = _store(args)
    total_added = total_present = 0
    for path in args.files:
        try:
            added, present = store.import_records(read_archive(path).items())
        except (OSError, ValueError) as exc:
            print(f"kodcode store import: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: {added} added, {present} already present")
        total_added += added
        total_present += present
    if len(args.files) > 1:
        print(f"total: {total_added} added, {total_present} already present")
    return 0
