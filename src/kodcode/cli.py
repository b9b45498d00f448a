"""The ``kodcode`` command. Each area registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# module path -> provides ``register(subparsers)``; each adds its subcommands
_AREAS = ("kodcode.executor.cli", "kodcode.llm.store_command", "kodcode.sources.cli", "kodcode.plan.cli",
          "kodcode.exports.publish")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kodcode", description="KodCode workflow tools")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod in _AREAS:
        try:
            importlib.import_module(mod).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
