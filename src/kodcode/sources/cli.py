"""``kodcode sources pins``: the commits that fetched sources resolved to, ready to pin.

A source configured by branch or tag (``revision: main``) is resolved when it is fetched,
and the commit is recorded in its cache manifest. This command lists those commits so that
they can be written into the config, which makes the next fetch anywhere check them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .spec import COMMIT, DEFAULT_CACHE_DIR


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sources", help="seed sources in the download cache")
    sub = p.add_subparsers(dest="sources_command", required=True)
    pins = sub.add_parser("pins", help="the commit each fetched source resolved to, to pin in the config")
    pins.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help=f"the config's cache_dir (default {DEFAULT_CACHE_DIR})")
    pins.set_defaults(func=cmd_pins)


def resolved_pins(cache_dir: str | Path) -> list[dict[str, str]]:
    """One row per fetched source: config key, repo, configured and resolved revision."""
    rows = []
    for manifest in sorted(Path(cache_dir).glob("**/manifest.json")):
        try:
            m = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a finished fetch; the fetch rule rewrites it
        unit = m.get("unit") or {}
        if not unit.get("repo"):
            continue
        rows.append({"origin": str(unit.get("origin", "?")), "repo": unit["repo"],
                     "revision": str(unit.get("revision", "")), "resolved": str(m.get("resolved_revision") or "")})
    return rows


def cmd_pins(args: Any) -> int:
    rows = resolved_pins(args.cache_dir)
    if not rows:
        print(f"no fetched sources under {args.cache_dir} (run: snakemake --until fetch_source ...)", file=sys.stderr)
        return 1
    for r in rows:
        if COMMIT.match(r["revision"]):
            note = "pinned"
        elif COMMIT.match(r["resolved"]):
            note = f"pin it: revision: {r['resolved']}"
        else:
            note = "no commit recorded"
        print(f"{r['origin']}\t{r['repo']}\t{r['revision']}\t{note}")
    return 0
