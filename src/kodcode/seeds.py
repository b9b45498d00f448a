"""Loading and validating seed files. A malformed line (not UTF-8, not JSON, not a JSON object)
or a seed too long to send to a model is dropped, counted and named, never silently."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .sources.errors import InputError
from .subsets import SubsetSpec

LISTED = 50  # locations and ids kept in the stats sidecar; the counts are always complete
SHOWN = 5  # line numbers and ids shown on the console


def over_limit_reason(max_chars: int) -> str:
    """The drop reason of a seed or a prompt longer than ``llm.max_prompt_chars``."""
    return f"longer than llm.max_prompt_chars ({max_chars})"


@dataclass(frozen=True)
class Malformed:
    """Seed input that is not a seed: a line of a JSON-lines file (``line``) or a whole file of
    a source tree (``line`` None) that does not decode as UTF-8 or does not parse."""

    file: str
    line: int | None
    why: str  # not UTF-8 | not JSON | not a JSON object

    @property
    def reason(self) -> str:
        return f"malformed line ({self.why})" if self.line else self.why

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.why}" if self.line else f"{self.file}: {self.why}"


def json_lines(path: Path) -> Iterator[tuple[int, bytes, Any]]:
    """``(line number, raw line, JSON object or Malformed)`` for each non-blank line. Read as
    bytes, so one undecodable line costs that line only, and split at ``\\n`` only (a JSON string
    may hold U+2028, which ``str.splitlines`` would cut)."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                value = Malformed(str(path), lineno, "not UTF-8")
            except ValueError:
                value = Malformed(str(path), lineno, "not JSON")
            else:
                if not isinstance(value, dict):
                    value = Malformed(str(path), lineno, "not a JSON object")
            yield lineno, raw, value


def _where(items: list[Malformed]) -> str:
    """``a.jsonl lines 4, 9; b.jsonl line 2`` for the first few items, ``...`` for the rest."""
    if not items:
        return ""
    by_file: dict[str, list[str]] = {}
    for m in items[:SHOWN]:
        by_file.setdefault(m.file, []).append(str(m.line))
    text = "; ".join(f"{f} line{'s' if len(ls) > 1 else ''} {', '.join(ls)}" for f, ls in by_file.items())
    return text + (", ..." if len(items) > SHOWN else "")


@dataclass
class SeedReport:
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    malformed: list[Malformed] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)  # ids of seeds longer than max_chars
    max_chars: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items()))}
        if self.malformed:  # where, so the user can fix the input
            out["malformed"] = [str(m) for m in self.malformed[:LISTED]]
        if self.over_limit:
            out["over_limit"] = self.over_limit[:LISTED]
        return out

    def summary(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped.items())) or "nothing dropped"

    def malformed_lines(self) -> str:
        """Where the first malformed lines are (``a.jsonl lines 4, 9``), or ""."""
        return _where([m for m in self.malformed if m.line])

    def notes(self, subset: str, stats: str) -> list[str]:
        """One console line per kind of drop the user should see: malformed lines or files,
        and seeds too long to send to a model."""
        out = []
        lines = [m for m in self.malformed if m.line]
        if lines:
            out.append(f"{subset} seeds: {len(lines)} of {self.read} lines dropped as malformed "
                       f"({self.malformed_lines()}): see {stats}")
        files = [m.file for m in self.malformed if not m.line]
        if files:
            more = ", ..." if len(files) > SHOWN else ""
            out.append(f"{subset} seeds: {len(files)} file{'s' if len(files) > 1 else ''} dropped as not UTF-8 "
                       f"text ({', '.join(files[:SHOWN])}{more}): see {stats}")
        if self.over_limit:
            more = ", ..." if len(self.over_limit) > SHOWN else ""
            out.append(f"{subset} seeds: {len(self.over_limit)} of {self.read} dropped as longer than "
                       f"llm.max_prompt_chars ({self.max_chars} characters; ids {', '.join(self.over_limit[:SHOWN])}"
                       f"{more}), never sent to a model: see {stats}")
        return out


def _rows(path: Path) -> Iterator[Any]:
    """The rows of a prepared seed file: each line of a JSON-lines file, or each entry of a
    ``.json`` list; a line that is not a JSON object comes as :class:`Malformed`."""
    if path.suffix != ".json":
        yield from (value for _, _, value in json_lines(path))
        return
    data = path.read_bytes()
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line} is not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as "
                         "UTF-8") from None
    except ValueError as exc:
        where = f"line {exc.lineno} column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else exc
        raise InputError(f"{path}: not valid JSON ({where}); a .json seed file holds one JSON list of seed "
                         "objects") from None
    if not isinstance(doc, list):
        raise InputError(f"{path}: a .json seed file holds a JSON list of seed objects, not a "
                         f"{type(doc).__name__}")
    yield from doc


def _check(row: Any, subset: SubsetSpec, max_chars: int | None) -> tuple[dict[str, Any] | None, str]:
    """``(seed, "")`` for a valid row, else ``(None, why it is dropped)``."""
    if isinstance(row, Malformed):
        return None, row.reason
    if not isinstance(row, dict):
        return None, "not a JSON object"
    sid = row.get("id")
    if sid is None or str(sid).strip() == "":
        return None, "missing id"
    content = row.get(subset.seed_field)
    if isinstance(content, list):  # snippet seeds may carry several code blocks
        content = "\n\n".join(str(c) for c in content if str(c).strip())
    if not isinstance(content, str) or not content.strip():
        return None, f"empty {subset.seed_field}"
    if max_chars is not None and len(content) > max_chars:  # never sent to a model
        return None, over_limit_reason(max_chars)
    return {**row, "id": str(sid), subset.seed_field: content}, ""


def validate_rows(rows: Iterable[Any], subset: SubsetSpec, report: SeedReport | None = None,
                  count_read: bool = True, max_chars: int | None = None) -> tuple[list[dict[str, Any]], SeedReport]:
    """The valid seeds among ``rows``: dicts with a string ``id`` and a non-empty content field
    of at most ``max_chars`` characters (``llm.max_prompt_chars``; None: no limit).

    Returns them sorted by id (so prompt assembly does not depend on source order) and a report
    of what was dropped and why. ``count_read=False`` when the caller already counted the rows."""
    report = report or SeedReport()
    report.max_chars = max_chars
    seeds: dict[str, dict[str, Any]] = {}
    for row in rows:
        if count_read:
            report.read += 1
        seed, why = _check(row, subset, max_chars)
        if seed is not None and seed["id"] in seeds:
            seed, why = None, "duplicate id"
        if seed is None:
            report.dropped[why] += 1
            if isinstance(row, Malformed):
                report.malformed.append(row)
            elif max_chars is not None and why == over_limit_reason(max_chars):
                report.over_limit.append(str(row["id"]))
            continue
        seeds[seed["id"]] = seed
    report.kept = len(seeds)
    return [seeds[k] for k in sorted(seeds)], report


def load_seeds(path: str | Path, subset: SubsetSpec, max_chars: int | None = None
               ) -> tuple[list[dict[str, Any]], SeedReport]:
    """Seeds of one subset from a prepared seed file (``seeds.<Subset>``): see :func:`validate_rows`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"seed file for {subset.name} not found: {path} (config key seeds.{subset.name})")
    return validate_rows(_rows(path), subset, max_chars=max_chars)


def prepared_file_problem(path: str | Path, subset: SubsetSpec, max_chars: int | None = None) -> str | None:
    """Why the prepared seed file ``seeds.<Subset>`` gives the subset no seed, as one line (None
    when it gives one). Reads only up to the first valid seed: cheap enough for Snakefile parse
    time, so an empty file stops the run before any job."""
    origin, path = f"seeds.{subset.name}", Path(path)
    if not path.is_file():
        return (f"{origin}: {path} does not exist; give a prepared seed file (one JSON object per line), "
                f"or remove {origin} to read sources.{subset.name}")
    report = SeedReport()
    try:
        for row in _rows(path):
            report.read += 1
            seed, why = _check(row, subset, max_chars)
            if seed is not None:
                return None
            report.dropped[why] += 1
    except InputError as exc:
        return f"{origin}: {exc}"
    except OSError as exc:
        return f"{origin}: cannot read {path} ({exc.strerror or exc})"
    need = f'a JSON object with an "id" and a non-empty "{subset.seed_field}"'
    if report.read == 0:
        return f"{origin}: {path} is empty; give one seed per line, {need}"
    unit = "entries" if path.suffix == ".json" else "lines"
    return (f"{origin}: {path} holds no valid seed in its {report.read} {unit} ({report.summary()}); "
            f"each needs {need}")
