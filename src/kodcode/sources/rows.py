"""Rows of a dataset folder in the Hugging Face hub's layout, read by file type.

The folder is a cached snapshot (``cache_dir/<key>/data/snapshot``) or a local copy in the same
layout. ``patterns`` are globs relative to it; parquet files are read through pyarrow with only
the wanted columns, jsonl files line by line keeping only those fields (some hub jsonl files are
gigabytes of test cases around a short prompt). Used for the decontamination benchmarks and the
Fig. 4 baseline sets; every problem is one line naming the file and what to fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Sequence


def matching_files(folder: Path, patterns: Sequence[str], where: str, repo: str | None,
                   error: type[Exception]) -> list[Path]:
    """The files each pattern matches (each pattern must match one), in pattern then name order."""
    if not folder.is_dir():
        raise error(f"{where}: {folder} is not a folder in the layout of {repo}")
    found: list[Path] = []
    for pattern in patterns:
        hits = sorted(p for p in folder.glob(pattern) if p.is_file())
        if not hits:
            raise error(f"{where}: no file matches {pattern} in {folder} ({repo})")
        found += [p for p in hits if p not in found]
    return found


def parquet_rows(path: Path, columns: Sequence[str], where: str, error: type[Exception]) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        raise error(f"{where}: {path} has no column {', '.join(missing)} (columns: {', '.join(names)})")
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(columns=list(columns)):  # one row group at a time, not the file
        yield from batch.to_pylist()


def jsonl_rows(path: Path, columns: Sequence[str], where: str, error: type[Exception]) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise error(f"{where}: {path} line {n} is not JSON") from None
            if not isinstance(row, dict):
                raise error(f"{where}: {path} line {n} is not a JSON object")
            missing = [c for c in columns if c not in row]
            if missing:
                raise error(f"{where}: {path} line {n} has no field {', '.join(missing)}")
            yield {c: row[c] for c in columns}


def file_rows(path: Path, columns: Sequence[str], where: str, error: type[Exception]) -> Iterator[dict[str, Any]]:
    """The ``columns`` of every row of one parquet or jsonl file."""
    if path.suffix == ".parquet":
        return parquet_rows(path, columns, where, error)
    if path.suffix in (".jsonl", ".json"):
        return jsonl_rows(path, columns, where, error)
    raise error(f"{where}: cannot read {path} (parquet or jsonl expected)")


def folder_rows(folder: Path, patterns: Sequence[str], columns: Sequence[str], where: str, repo: str | None,
                error: type[Exception]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(file, row) for every row of every file the patterns match."""
    for f in matching_files(folder, patterns, where, repo, error):
        for row in file_rows(f, columns, where, error):
            yield f, row
