"""Byte-stable matplotlib output: fixed rcParams, no pyplot state, no timestamps in PNG/PDF."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import matplotlib
from matplotlib.figure import Figure

from ..subsets import SUBSETS

# Everything that could vary between machines or runs is pinned: the font that ships with
# matplotlib, DPI, the SVG hash salt; PDF fonts are embedded as Type 42 subsets.
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "standard",
    "pdf.fonttype": 42,
    "svg.hashsalt": "kodcode-paper",
    "path.simplify": True,
}
# metadata=None entries are removed: no creation date, no library version in the files
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}

# the paper's subset order (kodcode.subsets); colours follow it so a subset looks the same in
# every figure
SUBSET_ORDER = tuple(SUBSETS)


def subset_color(name: str) -> tuple[float, float, float, float]:
    cmap = matplotlib.colormaps["tab20"]
    i = SUBSET_ORDER.index(name) if name in SUBSET_ORDER else len(SUBSET_ORDER) + sum(map(ord, name)) % 8
    return cmap(i % 20)


def ordered(subsets: Sequence[str]) -> list[str]:
    """Subsets in the paper's order, unknown names after them alphabetically."""
    known = [s for s in SUBSET_ORDER if s in subsets]
    return known + sorted(s for s in set(subsets) if s not in SUBSET_ORDER)


def title(text: str, demo: bool) -> str:
    return f"{text} (demo data)" if demo else text


def render(draw: Callable[[Figure], None], size: tuple[float, float], stem: str | Path) -> list[str]:
    """Build a figure with ``draw`` under the fixed rcParams and write ``stem``.png and .pdf."""
    # embedding PDF fonts logs every glyph at INFO, which would fill the rule's log
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig)
        for ext, meta in (("png", PNG_METADATA), ("pdf", PDF_METADATA)):
            path = stem.with_suffix(f".{ext}")
            fig.savefig(path, format=ext, metadata=meta)
            out.append(str(path))
    return out
