"""Raw source rows and files -> seed rows. Pure functions; each drop is counted with its reason.

Seed formats (what ``kodcode.seeds.load_seeds`` and the question stage read):
``{id, question}`` (statement subsets and Filter), ``{id, category, file_name, codes}``
(Algorithm, Data_Structure), ``{id, doc, source_name}`` (Docs).
"""

from __future__ import annotations

import io
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ..hashing import derive_seed
from ..seeds import Malformed
from .github import matches


@dataclass
class Tally:
    """Items read from a source and the ones dropped, by reason (read = kept + dropped)."""

    read: int = 0
    dropped: Counter = field(default_factory=Counter)
    malformed: list[Malformed] = field(default_factory=list)  # lines and files dropped as unreadable, to name them


# Where a LeetCode statement's examples begin; constraints and follow-ups come after them,
# so everything from the first marker on is cut.
_EXAMPLES = re.compile(r"^\s*(\*\*)?\s*(Example\s*\d*\s*:|Constraints\s*:|Follow[- ]?up\s*:)", re.M | re.I)


def leetcode_statement(content: str) -> str:
    """The statement part of a LeetCode problem's ``content``: examples, constraints and
    follow-up removed (upstream's seeds are the statement only)."""
    m = _EXAMPLES.search(content)
    return (content[: m.start()] if m else content).strip()


def statement_seeds(rows: Iterable[tuple[int, dict[str, Any]]], text_field: str, id_field: str | None,
                    tally: Tally, transform=None, id_prefix: str = "") -> list[dict[str, Any]]:
    """``{id, question}`` from rows of a dataset: id = the row's ``id_field`` or its row index."""
    out = []
    for index, row in rows:
        tally.read += 1
        text = row.get(text_field)
        if text is not None and not isinstance(text, str):
            tally.dropped[f"{text_field} is not text"] += 1
            continue
        if text and transform:
            text = transform(text)
        rid = row.get(id_field) if id_field else index
        out.append({"id": f"{id_prefix}{rid}" if rid is not None else None, "question": text or ""})
    return out


def sample_rows(rows: list[tuple[int, dict[str, Any]]], k: int | None, global_seed: int, subset: str,
                tally: Tally) -> list[tuple[int, dict[str, Any]]]:
    """``k`` rows drawn without replacement with an RNG seeded from the run's seed and the subset
    name, returned in source order; the rest are counted as not sampled."""
    if not k or k >= len(rows):
        return rows
    rng = random.Random(derive_seed(global_seed, subset, "seed-sample"))
    chosen = sorted(rng.sample(range(len(rows)), k))
    tally.dropped[f"not in the {k}-row sample"] += len(rows) - k
    tally.read += len(rows) - k  # counted here; the kept rows are counted when converted
    return [rows[i] for i in chosen]


def decode_text(data: bytes) -> str:
    """File text as Python's text mode reads it: UTF-8 with universal newlines (``\\r\\n`` -> ``\\n``)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None).read()


def _wanted_texts(files: Iterable[tuple[str, bytes]], include: list[str], exclude: list[str],
                  tally: Tally, tree: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every file matching ``include`` and no ``exclude`` pattern, in sorted
    path order; excluded and undecodable files are counted in ``tally`` (the latter named as
    ``<tree>/<path>``)."""
    for path, data in sorted(files):
        if not matches(path, include):
            continue
        tally.read += 1
        pat = matches(path, exclude)
        if pat:
            tally.dropped[f"excluded ({pat})"] += 1
            continue
        try:
            yield path, decode_text(data)
        except UnicodeDecodeError:
            tally.dropped["not UTF-8"] += 1
            tally.malformed.append(Malformed(f"{tree}/{path}" if tree else path, None, "not UTF-8"))


def snippet_seeds(files: Iterable[tuple[str, bytes]], include: list[str], exclude: list[str],
                  tally: Tally, tree: str = "") -> list[dict[str, Any]]:
    """``{id, category, file_name, codes}`` from a source tree: every file matching ``include``
    and no ``exclude`` pattern; ``category`` = parent folder, ``file_name`` = name without its
    extension, ``codes`` = text. Ids are 0, 1, ... in sorted path order."""
    out = []
    for path, text in _wanted_texts(files, include, exclude, tally, tree):
        parts = path.split("/")
        name = parts[-1]
        out.append({"id": len(out), "category": parts[-2] if len(parts) > 1 else "",
                    "file_name": name.rsplit(".", 1)[0] if "." in name else name, "codes": text})
    return out


def notebook_text(raw: str) -> str:
    """A Jupyter notebook as text: markdown and raw cells as written, code cells fenced."""
    nb = json.loads(raw)
    chunks = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        if not src.strip():
            continue
        chunks.append(f"```python\n{src.rstrip()}\n```" if cell.get("cell_type") == "code" else src.strip())
    return "\n\n".join(chunks)


def split_document(text: str, max_chars: int) -> list[str]:
    """Pieces of at most ``max_chars`` characters, cut between paragraphs (blank lines); a
    paragraph longer than ``max_chars`` is cut at a line end, else a space, else hard."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        while len(para) > max_chars:
            cut = para.rfind("\n", 0, max_chars)
            cut = cut if cut > 0 else para.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            units.append(para[:cut])
            para = para[cut:].lstrip("\n")
        if para.strip():
            units.append(para)
    pieces, cur = [], ""
    for u in units:
        if cur and len(cur) + 2 + len(u) > max_chars:
            pieces.append(cur)
            cur = u
        else:
            cur = f"{cur}\n\n{u}" if cur else u
    if cur.strip():
        pieces.append(cur)
    return [p.strip() for p in pieces if p.strip()]


def doc_seeds(name: str, files: Iterable[tuple[str, bytes]], docs_dirs: tuple[str, ...] | list[str],
              include: list[str], exclude: list[str], max_chars: int, min_chars: int,
              tally: Tally, tree: str = "") -> list[dict[str, Any]]:
    """``{id, doc, source_name}`` from documentation sources (rst, txt, notebooks) under
    ``docs_dirs``: each file as text, split into pieces of at most ``max_chars``; pieces shorter
    than ``min_chars`` are dropped. id = ``<name>/<path>`` (``#<k>`` when split), so ids sort by path."""
    out = []
    prefixes = tuple(d.strip("/") + "/" for d in docs_dirs)
    in_docs = ((path, data) for path, data in files if path.startswith(prefixes))
    for path, text in _wanted_texts(in_docs, include, exclude, tally, tree):
        if path.endswith(".ipynb"):
            try:
                text = notebook_text(text)
            except (ValueError, AttributeError):
                tally.dropped["notebook is not valid JSON"] += 1
                continue
        pieces = split_document(text, max_chars)
        if len(pieces) > 1:
            tally.read += len(pieces) - 1  # each piece is one seed candidate
        for k, piece in enumerate(pieces):
            if len(piece) < min_chars:
                tally.dropped[f"shorter than {min_chars} characters"] += 1
                continue
            pid = f"{name}/{path}" + (f"#{k + 1:03d}" if len(pieces) > 1 else "")
            out.append({"id": pid, "doc": piece, "source_name": name})
        if not pieces:
            tally.dropped["empty document"] += 1
    return out


def keep_matching(seeds: list[dict[str, Any]], pattern: str, tally: Tally, reason: str) -> list[dict[str, Any]]:
    """Seeds whose question matches ``pattern`` (e.g. Python-related MAGPIE instructions)."""
    rx = re.compile(pattern)
    kept = []
    for s in seeds:
        if isinstance(s.get("question"), str) and rx.search(s["question"]):
            kept.append(s)
        else:
            tally.dropped[reason] += 1
    return kept
