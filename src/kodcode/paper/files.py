"""Reading a run's files and writing the figure tables (TSV + JSON), with one-line errors."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..jsonl import MalformedRecord, read_json, read_jsonl, write_json


class PaperInputError(ValueError):
    """An input file of a paper figure is missing or not in the expected layout."""


def load_json(path: str | Path) -> Any:
    try:
        return read_json(path)
    except FileNotFoundError:
        raise PaperInputError(f"{path}: missing (run the workflow first)") from None
    except json.JSONDecodeError as exc:
        raise PaperInputError(f"{path}: not valid JSON ({exc.msg})") from None


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    try:
        return read_jsonl(path)
    except FileNotFoundError:
        raise PaperInputError(f"{path}: missing (run the workflow first)") from None
    except MalformedRecord as exc:
        raise PaperInputError(str(exc)) from None


def load_tsv(path: str | Path) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t"))
    except FileNotFoundError:
        raise PaperInputError(f"{path}: missing (run the workflow first)") from None


def parquet_folder(folder: str | Path) -> dict[str, Path]:
    """``<Subset>.parquet`` files of a KodCode-V1-layout folder, by subset name."""
    files = sorted(Path(folder).glob("*.parquet"))
    if not files:
        raise PaperInputError(f"{folder}: no <Subset>.parquet files (a KodCode-V1-layout folder is expected)")
    return {f.stem: f for f in files}


def load_parquet(path: str | Path, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The given columns of one release file, as rows."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except FileNotFoundError:
        raise PaperInputError(f"{path}: missing (run the workflow first)") from None
    missing = [c for c in columns if c not in names]
    if missing:
        raise PaperInputError(f"{path}: no column {', '.join(missing)} (not the KodCode-V1 layout)")
    return pq.read_table(path, columns=list(columns)).to_pylist()


def parquet_rows(path: str | Path) -> int:
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except FileNotFoundError:
        raise PaperInputError(f"{path}: missing (run the workflow first)") from None


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def write_tsv(path: str | Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(columns)] + ["\t".join(_cell(r.get(c)) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_summary(path: str | Path, summary: dict[str, Any]) -> None:
    write_json(path, summary)
