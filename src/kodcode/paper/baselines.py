"""Fig. 4's baseline instruction sets: public Hugging Face datasets at pinned revisions.

The paper maps 2,000 questions of each of four earlier code instruction sets beside KodCode's
subsets. ``paper.baselines`` lists them by name (the four below, fetched into the seed sources'
download cache at the revision pinned here), or as objects ``{name, revision, path, sample}``
that pin another revision, point at a local copy in the dataset's hub layout, or change the
sample size. A set of your own is ``{name, path, field}``: a .jsonl/.parquet file, or a folder
of them, with the question text in ``field``.

``sample_questions`` reads one set and keeps ``sample`` of its questions, chosen by the sha256 of
each row's position id (file and row), so the choice is the same on every machine and run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from ..sources.rows import file_rows, folder_rows
from ..sources.spec import FetchUnit, cache_dir
from .files import PaperInputError

log = logging.getLogger("kodcode.paper")
DEFAULT_SAMPLE = 2000


@dataclass(frozen=True)
class Baseline:
    name: str  # config name, also the label in Fig. 4
    field: str  # the column holding the instruction
    files: tuple[str, ...] = ()  # globs of the snapshot (or local folder) to read
    repo: str | None = None
    revision: str = "main"
    allow_patterns: tuple[str, ...] = ()  # what to download (default: files)
    where: tuple[tuple[str, str], ...] = ()  # keep rows whose column equals the value
    path: str | None = None  # a local copy: a folder in the hub layout, or one file
    sample: int = DEFAULT_SAMPLE

    @property
    def origin(self) -> str:
        return f"paper.baselines.{self.name}"

    def unit(self) -> FetchUnit | None:
        """The download-cache unit (None: a local copy)."""
        if self.path or not self.repo:
            return None
        return FetchUnit(kind="hf", repo=self.repo, revision=self.revision, origin=self.origin,
                         allow_patterns=self.allow_patterns or self.files)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(files=list(self.files), allow_patterns=list(self.allow_patterns), where=[list(w) for w in self.where])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Baseline":
        return cls(**{**d, "files": tuple(d.get("files") or ()), "allow_patterns": tuple(d.get("allow_patterns") or ()),
                      "where": tuple(tuple(w) for w in d.get("where") or ())})


_OPC = "OpenCoder-LLM/opc-sft-stage2"
_OPC_REV = "7d28f40d579edd7c24402d17d0c7639f991e6f8d"
# Revisions are commits of each dataset on the hub (the fetch checks them). The OpenCoder sets
# download "<config>/*" and README.md, the same cache entry as the Package subset's seeds.
BUILTIN: dict[str, Baseline] = {
    # the commit that uploaded the data file (the one after it adds only a README); Python rows
    # only, as every KodCode subset is Python
    "OSS-Instruct": Baseline("OSS-Instruct", "problem", ("data-oss_instruct-decontaminated.jsonl",),
                             repo="ise-uiuc/Magicoder-OSS-Instruct-75K",
                             revision="2ec79c101d49107f373ffa875a8b0fdeca07e07b", where=(("lang", "python"),)),
    "ACECoder": Baseline("ACECoder", "question", ("data/train-*.parquet",), repo="TIGER-Lab/AceCode-87K",
                         revision="13216309a9f6cb40b60cb1a9750071efeac414ad"),
    "Educational-Instruct": Baseline("Educational-Instruct", "instruction", ("educational_instruct/*.parquet",),
                                     repo=_OPC, revision=_OPC_REV,
                                     allow_patterns=("README.md", "educational_instruct/*")),
    "Package-Instruct": Baseline("Package-Instruct", "instruction", ("package_instruct/*.parquet",),
                                 repo=_OPC, revision=_OPC_REV, allow_patterns=("README.md", "package_instruct/*")),
}
ENTRY_KEYS = ("name", "revision", "path", "sample", "field")


def baseline(raw: Any, where: str = "paper.baselines") -> Baseline:
    """One ``paper.baselines`` entry (a name, or an object) as a Baseline."""
    entry = {"name": raw} if isinstance(raw, str) else dict(raw or {})
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise PaperInputError(f"{where}: every entry needs a name (known sets: {', '.join(BUILTIN)})")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise PaperInputError(f"{where}: {name!r} cannot name a file; use letters, digits, '_', '.' and '-'")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise PaperInputError(f"{where}.{name}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(ENTRY_KEYS[1:])})")
    sample = int(entry.get("sample") or DEFAULT_SAMPLE)
    if name in BUILTIN:
        base = BUILTIN[name]
        if entry.get("field") and not entry.get("path"):
            raise PaperInputError(f"{where}.{name}: field applies to a local copy (path) only")
        return Baseline(**{**base.to_dict(), "files": base.files, "allow_patterns": base.allow_patterns,
                           "where": base.where, "revision": str(entry.get("revision") or base.revision),
                           "path": entry.get("path"), "field": entry.get("field") or base.field, "sample": sample})
    if not entry.get("path"):
        raise PaperInputError(f"{where}.{name}: not a known set ({', '.join(BUILTIN)}); "
                              "a set of your own needs path: (a .jsonl/.parquet file or a folder of them)")
    if entry.get("revision"):
        raise PaperInputError(f"{where}.{name}: revision applies to the known hub sets only")
    return Baseline(name, str(entry.get("field") or "question"), path=str(entry["path"]), sample=sample)


def configured(config: Mapping[str, Any]) -> dict[str, Baseline]:
    """The run's baseline sets by name, in config order ({} when none)."""
    out: dict[str, Baseline] = {}
    for raw in (config.get("paper") or {}).get("baselines") or []:
        b = baseline(raw)
        if b.name in out:
            raise PaperInputError(f"paper.baselines: {b.name} is listed twice")
        out[b.name] = b
    return out


def manifest(config: Mapping[str, Any], b: Baseline) -> str | None:
    """The cache manifest a hub set is read from (None: a local copy)."""
    u = b.unit()
    return None if u is None else os.path.join(cache_dir(config), u.key, "manifest.json")


def local_files(b: Baseline) -> list[str]:
    """Every file of a local copy (so editing one reruns the sampling); [] for a hub set."""
    if not b.path:
        return []
    p = Path(b.path)
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*") if f.is_file())
    return [b.path]


def _rows(b: Baseline, folder: Path | None):
    columns = [b.field, *(c for c, _ in b.where)]
    if b.path and Path(b.path).is_file():
        root = Path(b.path).parent
        rows = ((Path(b.path), r) for r in file_rows(Path(b.path), columns, b.origin, PaperInputError))
    else:
        root = Path(b.path) if b.path else folder
        if root is None:
            raise PaperInputError(f"{b.origin}: no snapshot folder given for {b.repo}")
        if not b.path and not root.is_dir():
            raise PaperInputError(f"{b.origin}: {root} is missing; delete the cache manifest to fetch it again")
        patterns = b.files or ("**/*.parquet", "**/*.jsonl")
        if b.path and not b.files:  # a folder of your own: whatever it holds of either type
            patterns = tuple(p for p in patterns if any(Path(b.path).glob(p)))
        if not patterns:
            raise PaperInputError(f"{b.origin}: {b.path} holds no .parquet or .jsonl file")
        rows = folder_rows(root, patterns, columns, b.origin, b.repo or b.path, PaperInputError)
    for n, (f, row) in enumerate(rows):
        yield f"{f.relative_to(root).as_posix()}#{n}", row


def sample_questions(b: Baseline, folder: Path | None = None) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """``b.sample`` questions of one set as ``{question_id, question}`` rows (sorted by id) and
    the counts: rows read, rows the ``where`` filter dropped, empty texts dropped, kept."""
    stats = {"baseline": b.name, "source": b.path or f"hf {b.repo}@{b.revision}", "field": b.field,
             "where": dict(b.where), "rows": 0, "filtered_out": 0, "empty": 0}
    pool: list[tuple[str, str, str]] = []  # (hash, id, text)
    for rid, row in _rows(b, folder):
        stats["rows"] += 1
        if any(str(row.get(c)) != v for c, v in b.where):
            stats["filtered_out"] += 1
            continue
        text = row.get(b.field)
        if not isinstance(text, str) or not text.strip():
            stats["empty"] += 1
            continue
        pool.append((hashlib.sha256(rid.encode()).hexdigest(), rid, text))
    if not pool:
        raise PaperInputError(f"{b.origin}: no row with a non-empty {b.field!r} "
                              f"({stats['rows']} rows read, {stats['filtered_out']} filtered out)")
    pool.sort()
    kept = sorted(pool[: b.sample], key=lambda t: t[1])
    stats.update(available=len(pool), sampled=len(kept))
    return [{"question_id": rid, "question": text} for _, rid, text in kept], stats


def write_baseline(spec: Mapping[str, Any], manifest: str | None, out_questions: str, out_stats: str) -> None:
    """The ``paper_baseline`` rule: one set's sampled questions and where they came from."""
    from ..jsonl import write_jsonl
    from ..sources.cache import hub_snapshot
    from ..stages.common import write_stats

    b = Baseline.from_dict(spec)
    folder, commit = (None, None) if b.path or manifest is None else hub_snapshot(manifest)
    rows, stats = sample_questions(b, folder)
    write_jsonl(out_questions, rows)
    write_stats(out_stats, "paper_baseline", **stats, resolved_revision=commit)
    log.info("%s: %d of %d questions sampled (%s)", b.name, stats["sampled"], stats["available"], stats["source"])
