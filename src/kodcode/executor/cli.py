"""``kodcode execute DIR --out verdicts.json``: run every attempt folder under DIR.

A subfolder holding ``solution.py`` and ``test_solution.py`` is a pytest attempt; one
holding ``solution.py`` and ``tests.json`` (stdin/stdout cases, see docs/executor.md) is
a stdio attempt. The JSON written maps each subfolder's name to its record.
Engine, workers, preload and limits default to the ``executor`` section of the config
file. With ``--store`` each verdict is stored as soon as it is known, so a rerun after a
kill executes only the attempts that had not finished. Exit status: 2 bad folder, 3 no
usable engine, 4 the store could not be written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from .base import Attempt, Limits, UnreadableFile, read_attempt_file

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("config/config.yaml")


def _config_defaults(path: Path | None) -> dict[str, Any]:
    if path is None:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
    if path is None:
        return {}
    import yaml

    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    return dict(cfg.get("executor") or {})


def collect(root: Path) -> tuple[list[str], list[Attempt], dict[str, str]]:
    """(names, attempts, skipped name -> why) for the subfolders of ``root``. A folder whose
    files do not read as UTF-8 text is skipped with the file named: it gets an ``error``
    verdict, and the others still run."""
    names, attempts, skipped = [], [], {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        sol = sub / "solution.py"
        if not sol.is_file():
            skipped[sub.name] = "no solution.py"
            continue
        if (sub / "test_solution.py").is_file():
            tests_file, kind = sub / "test_solution.py", "pytest"
        elif (sub / "tests.json").is_file():
            tests_file, kind = sub / "tests.json", "stdio"
        else:
            skipped[sub.name] = "no test_solution.py or tests.json"
            continue
        try:
            solution = read_attempt_file(sol, f"{sub.name}/{sol.name}")
            tests = read_attempt_file(tests_file, f"{sub.name}/{tests_file.name}")
        except UnreadableFile as exc:
            log.warning("kodcode execute: attempt %s gets an error verdict: %s/%s", sub.name, root, exc)
            skipped[sub.name] = str(exc)
            continue
        names.append(sub.name)
        attempts.append(Attempt(sub.name, solution, tests, kind))
    return names, attempts, skipped


def cmd_execute(args: argparse.Namespace) -> int:
    from ..store import StoreError
    from .engines import EngineUnavailable
    from .service import run_attempts

    root = Path(args.dir)
    if not root.is_dir():
        print(f"kodcode execute: {root} is not a folder", file=sys.stderr)
        return 2
    cfg = _config_defaults(Path(args.config) if args.config else None)
    lim = dict(cfg.get("limits") or {})
    for key, value in (("timeout_s", args.timeout), ("memory_mb", args.memory_mb),
                       ("max_processes", args.max_processes), ("max_file_mb", args.max_file_mb),
                       ("max_output_kb", args.max_output_kb)):
        if value is not None:
            lim[key] = value
    limits = Limits(**lim)
    engine = args.engine or cfg.get("engine", "auto")
    workers = args.workers or int(cfg.get("workers", 2))
    image = args.image or cfg.get("image")
    names, attempts, skipped = collect(root)
    store = None
    if args.store:
        from ..store import ContentStore
        from .service import NAMESPACE

        store = ContentStore(Path(args.store), NAMESPACE)
    preload = cfg.get("preload")  # None: the pool's default list
    try:
        results, counts = run_attempts(attempts, limits=limits, engine=engine, store=store, workers=workers,
                                       image=image, preload=preload) if attempts else (
            [], {"attempts": 0, "cached": 0, "executed": 0})
    except EngineUnavailable as exc:
        print(f"kodcode execute: {exc}", file=sys.stderr)
        return 3
    except StoreError as exc:
        print(f"kodcode execute: {exc}", file=sys.stderr)
        return 4
    out = {name: res.to_dict() for name, res in zip(names, results)}
    for name, why in skipped.items():
        out[name] = {"verdict": "error", "reason": f"not an attempt folder: {why}"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(dict(sorted(out.items())), indent=2) + "\n", encoding="utf-8")
    tally: dict[str, int] = {}
    for rec in out.values():
        tally[rec["verdict"]] = tally.get(rec["verdict"], 0) + 1
    print(f"{len(attempts)} attempts ({counts['executed']} executed, {counts['cached']} from the store): "
          + ", ".join(f"{v} {k}" for k, v in sorted(tally.items())) + f" -> {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("execute", help="run attempt folders (solution.py + test_solution.py) in the sandbox",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="folder whose subfolders are attempts")
    p.add_argument("--out", required=True, help="JSON file: subfolder name -> record with 'verdict'")
    p.add_argument("--engine", choices=["auto", "bwrap", "apptainer", "docker", "none", "local"], default=None,
                   help="isolation engine (default: config executor.engine, else auto)")
    p.add_argument("--image", default=None, help="container image for apptainer (.sif) or docker")
    p.add_argument("--workers", type=int, default=None, help="warm workers (default: config, else 2)")
    p.add_argument("--timeout", type=float, default=None, help="wall time limit per attempt, seconds")
    p.add_argument("--memory-mb", type=int, default=None)
    p.add_argument("--max-processes", type=int, default=None)
    p.add_argument("--max-file-mb", type=int, default=None)
    p.add_argument("--max-output-kb", type=int, default=None)
    p.add_argument("--store", default=None, help="content-addressed verdict store folder (reruns execute nothing)")
    p.add_argument("--config", default=None, help=f"config file for defaults (default: {DEFAULT_CONFIG} if present)")
    p.set_defaults(func=cmd_execute)
