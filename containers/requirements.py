"""The pip requirements of one image variant, from envs/test-env.txt (standard library only:
it runs inside image builds, before anything is installed).

    python3 requirements.py VARIANT LIST            # every requirement but torch
    python3 requirements.py VARIANT LIST --torch    # the torch requirement, or nothing
    python3 requirements.py VARIANT LIST --modules  # the import names, torch's included

Variants: ``cpu`` (the whole list, torch from the CPU wheel index or a local wheel),
``gpu`` (the whole list, torch's CUDA build from PyPI) and ``slim`` (no torch stack: the CI
image). Tags in a line's comment: ``[torch]`` drops the line from ``slim``; ``[cpu=REQ]``
installs REQ instead on ``cpu`` and ``slim``.
"""

from __future__ import annotations

import re
import sys

VARIANTS = ("cpu", "gpu", "slim")
TAG = re.compile(r"\[([a-z]+)(?:=([^\]]+))?\]")


# PyPI name -> import name, where they differ (the build imports every package it installed)
MODULES = {"beautifulsoup4": "bs4", "fake-useragent": "fake_useragent", "opencv-python-headless": "cv2",
           "pillow": "PIL", "pytest-cov": "pytest_cov", "python-dateutil": "dateutil", "scikit-learn": "sklearn",
           "sphinx-pyproject": "sphinx_pyproject", "typing-extensions": "typing_extensions", "xgboost-cpu": "xgboost"}


def module_of(requirement: str) -> str:
    name = name_of(requirement)
    return MODULES.get(name, name.replace("-", "_"))


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def parse(text: str) -> list[tuple[str, dict[str, str]]]:
    """(requirement, tags) per line of the list."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        req, _, comment = line.partition("#")
        req = req.strip()
        if not req:
            continue
        tags = {m.group(1): (m.group(2) or "") for m in TAG.finditer(comment)}
        unknown = set(tags) - {"torch", "cpu"}
        if unknown:
            raise SystemExit(f"envs/test-env.txt line {n}: unknown tag {sorted(unknown)}; use [torch] or [cpu=REQ]")
        out.append((req, tags))
    return out


def select(text: str, variant: str) -> tuple[list[str], str]:
    """(requirements without torch, the torch requirement or '') of ``variant``."""
    if variant not in VARIANTS:
        raise SystemExit(f"unknown image variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    reqs, torch = [], ""
    for req, tags in parse(text):
        if "torch" in tags and variant == "slim":
            continue
        if tags.get("cpu") and variant in ("cpu", "slim"):
            req = tags["cpu"]
        if name_of(req) == "torch":
            torch = req
        else:
            reqs.append(req)
    return reqs, torch


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] not in ("--torch", "--modules")):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        reqs, torch = select(fh.read(), argv[0])
    if argv[2:] == ["--modules"]:
        print(" ".join(module_of(r) for r in reqs + ([torch] if torch else [])))
    elif argv[2:] == ["--torch"]:
        if torch:
            print(torch)
    else:
        print("\n".join(reqs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
