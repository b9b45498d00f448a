"""``kodcode plan``: load and check the config as the workflow does, read what the run and the
store measured, print the plan."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .estimate import Inputs, make_plan
from .measure import read_results, sample_store
from .render import FORMATS

DEFAULT_CONFIG = "config/config.yaml"  # the Snakefile's `configfile:`


class PlanError(Exception):
    """A user-caused problem: one line, printed without a traceback."""


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{path}: config file not found; check --configfile (paths are relative to --directory)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read the config file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PlanError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)}); fix the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PlanError(f"{path}: a config file must be a mapping of keys, not {type(data).__name__}")
    return data


def load_config(workdir: Path, files: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The Snakefile's config: config/config.yaml, each --configfile merged over it key by key
    (as Snakemake does), checked against config/schema.yaml with defaults filled in."""
    from .. import config as _config

    if not (workdir / _config.SCHEMA).is_file():
        raise PlanError(f"{workdir / _config.SCHEMA} not found; run kodcode plan in the workflow folder "
                        "or pass --directory")
    names = [DEFAULT_CONFIG] + [f for f in files if f != DEFAULT_CONFIG]
    merged: dict[str, Any] = {}
    for name in names:
        merged = _config.merge(merged, _read_yaml(workdir / name))
    checked = _config.check(merged, {}, _config.load_schema(workdir))
    if checked.problems:
        raise PlanError("\n".join(f"{p} ({', '.join(names)})" for p in checked.problems))
    if "plan" not in checked.config:  # a workflow folder older than the planner
        raise PlanError(f"{workdir / _config.SCHEMA} has no plan section; update the workflow folder from this "
                        "version of kodcode")
    return checked.config, names


def run(args: argparse.Namespace) -> int:
    from ..store import StoreError

    workdir = Path(args.directory)
    try:
        cfg, names = load_config(workdir, args.configfile or [])
        store = Path(args.store) if args.store else workdir / cfg["store"]
        results = Path(args.results) if args.results else workdir / "results"
        try:
            sample = sample_store(store, int(cfg["plan"]["sample_records"]))
        except StoreError as exc:
            raise PlanError(f"{exc} (--store {store})") from None
        plan = make_plan(Inputs(cfg, names, read_results(results, cfg["subsets"]), sample))
    except PlanError as exc:
        print(f"kodcode plan: {exc}", file=sys.stderr)
        return 2
    print(FORMATS[args.format](plan))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="requests, tokens, cost, GPU- and CPU-hours and disk a run will take",
                       description="Plan a run: per subset and stage, the requests the config makes, their tokens "
                                   "and cost (or GPU-hours), executor CPU-hours and disk, from what the run's "
                                   "results and the store measured, else documented defaults.")
    p.add_argument("--configfile", nargs="+", action="extend", metavar="FILE",
                   help="merged over config/config.yaml in order, as snakemake --configfile")
    p.add_argument("--store", help="the content store to measure (default: the config's store)")
    p.add_argument("--results", help="the results folder to measure (default: results)")
    p.add_argument("--directory", "-d", default=".", help="the workflow folder (default: here)")
    p.add_argument("--format", choices=sorted(FORMATS), default="table")
    p.set_defaults(func=run)
