"""What the config says about each subset's seed source, as plain dataclasses.

A subset's source (``sources.<Subset>``) is made of one or more *parts*; each part is read
from one *fetch unit*: a GitHub tree at a revision or a Hugging Face dataset snapshot at a
revision. A unit is either fetched into ``cache_dir`` (the ``fetch_source`` rule, keyed by
:attr:`FetchUnit.key`) or read from ``path:``, a local copy in the same layout.

What to take from a source (fields, ids, sample size, file filters) has per-subset defaults in
:data:`SUBSET_DEFAULTS`; the config may override them. Everything here is pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from .errors import SourceError

COMMIT = re.compile(r"^[0-9a-f]{40}$")
REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
DEFAULT_CACHE_DIR = ".kodcode/cache"

# How each subset turns its source into seeds. ``convert`` names a function in convert.py;
# the other keys are its options and may be overridden under sources.<Subset>.
SUBSET_DEFAULTS: dict[str, dict[str, Any]] = {
    # statement only: examples and constraints are cut (see convert.leetcode_statement)
    "Leetcode": {"kind": "hf", "convert": "leetcode", "field": "content", "id_field": "id"},
    "Codeforces": {"kind": "hf", "convert": "statement", "field": "description", "id_field": "id"},
    "Apps": {"kind": "hf", "convert": "statement", "field": "question", "id_field": "problem_id"},
    "Taco": {"kind": "hf", "convert": "statement", "field": "question", "id_field": None},
    "Code_Contests": {"kind": "hf", "convert": "statement", "field": "description", "id_field": None},
    "Package": {"kind": "hf", "convert": "statement", "field": "instruction", "id_field": None, "sample": 2000},
    "Evol": {"kind": "hf", "convert": "statement", "field": "instruction", "id_field": None, "sample": 2000},
    "Algorithm": {"kind": "github", "convert": "snippets", "include": ["*.py"], "exclude": ["__init__.py"]},
    "Data_Structure": {"kind": "github", "convert": "snippets", "include": ["*.py"],
                       "exclude": ["__init__.py", "test_*.py", "setup.py", "docs/source/conf.py"]},
    "Docs": {"kind": "docs", "convert": "docs", "include": ["*.rst", "*.txt", "*.ipynb"], "exclude": [],
             "max_chars": 8000, "min_chars": 200},
    "Filter": {"kind": "hf", "convert": "magpie", "field": "instruction", "id_field": "uuid",
               "keep_pattern": r"(?i)\bpython\b"},
}
OPTION_KEYS = ("field", "id_field", "sample", "include", "exclude", "max_chars", "min_chars", "keep_pattern")
UNIT_KEYS = ("repo", "revision", "sha256", "allow_patterns", "path")
PART_KEYS = ("config", "split", "data_files", "docs_dir", "name")


@dataclass(frozen=True)
class FetchUnit:
    """One thing to download: a GitHub tree or a Hugging Face dataset repo at a revision."""

    kind: str  # github | hf
    repo: str
    revision: str
    origin: str  # the config key it came from, for messages: sources.Leetcode
    sha256: str | None = None  # github: expected sha256 of the tarball
    allow_patterns: tuple[str, ...] = ()  # hf: which files of the repo to download (all when empty)
    path: str | None = None  # a local copy in the same layout: nothing is fetched

    @property
    def pinned(self) -> bool:
        """True when the revision is a full commit SHA (checked against what is fetched)."""
        return bool(COMMIT.match(self.revision))

    @property
    def key(self) -> str:
        """Cache folder of this unit under cache_dir, e.g. ``hf/greengerong/leetcode/main/all``."""
        owner, name = self.repo.split("/")
        key = f"{self.kind}/{owner}/{name}/{quote(self.revision, safe='')}"
        if self.kind == "hf":
            pats = sorted(self.allow_patterns)
            key += "/" + (hashlib.sha256(json.dumps(pats).encode()).hexdigest()[:10] if pats else "all")
        return key

    def describe(self) -> str:
        return f"{self.kind} {self.repo}@{self.revision}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["allow_patterns"] = list(self.allow_patterns)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "FetchUnit":
        return cls(**{**d, "allow_patterns": tuple(d.get("allow_patterns") or ())})


@dataclass(frozen=True)
class Part:
    """One part of a subset's source and how to read it."""

    unit: FetchUnit
    name: str = ""  # docs: the package (source_name); filter: a label for ids
    config: str | None = None  # hf config name
    split: str = "train"
    data_files: Any = None  # hf: explicit data files, relative to the snapshot
    docs_dir: tuple[str, ...] = ()  # docs: folders of the tree holding documentation sources

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit.to_dict(), "name": self.name, "config": self.config, "split": self.split,
                "data_files": self.data_files, "docs_dir": list(self.docs_dir)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Part":
        return cls(unit=FetchUnit.from_dict(d["unit"]), name=d.get("name", ""), config=d.get("config"),
                   split=d.get("split", "train"), data_files=d.get("data_files"),
                   docs_dir=tuple(d.get("docs_dir") or ()))


@dataclass(frozen=True)
class SubsetSource:
    subset: str
    kind: str  # hf | github | docs
    convert: str
    parts: tuple[Part, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"subset": self.subset, "kind": self.kind, "convert": self.convert,
                "parts": [p.to_dict() for p in self.parts], "options": dict(self.options)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SubsetSource":
        return cls(subset=d["subset"], kind=d["kind"], convert=d["convert"],
                   parts=tuple(Part.from_dict(p) for p in d["parts"]), options=dict(d.get("options") or {}))


def _unit(kind: str, raw: Mapping[str, Any], origin: str) -> FetchUnit:
    repo = raw.get("repo")
    if not isinstance(repo, str) or not REPO.match(repo):
        raise SourceError(f"{origin}.repo: give the source repository as owner/name (got {repo!r})")
    revision = raw.get("revision")
    if not isinstance(revision, str) or not revision.strip():
        raise SourceError(f"{origin}.revision: pin a revision for {repo} (a commit SHA, tag or branch)")
    if raw.get("sha256") and kind != "github":
        raise SourceError(f"{origin}.sha256: only GitHub tarballs take a sha256; Hugging Face files are "
                          f"checked against the hub's own checksums")
    pats = raw.get("allow_patterns") or ()
    return FetchUnit(kind=kind, repo=repo, revision=revision.strip(), origin=origin, sha256=raw.get("sha256"),
                     allow_patterns=tuple(pats), path=raw.get("path"))


def _as_tuple(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    return (v,) if isinstance(v, str) else tuple(v)


def _part(kind: str, raw: Mapping[str, Any], origin: str) -> Part:
    unit = _unit("github" if kind in ("github", "docs") else "hf", raw, origin)
    if kind == "docs" and not raw.get("name"):
        raise SourceError(f"{origin}.name: name the documented package (it becomes source_name)")
    if kind == "docs" and not raw.get("docs_dir"):
        raise SourceError(f"{origin}.docs_dir: give the folder(s) of {unit.repo} that hold its documentation")
    return Part(unit=unit, name=raw.get("name") or unit.repo.split("/")[1], config=raw.get("config"),
                split=raw.get("split") or "train", data_files=raw.get("data_files"),
                docs_dir=_as_tuple(raw.get("docs_dir")))


def subset_source(subset: str, raw: Mapping[str, Any]) -> SubsetSource:
    """Parse ``sources.<subset>`` (already schema-validated) into a :class:`SubsetSource`."""
    origin = f"sources.{subset}"
    if subset not in SUBSET_DEFAULTS:
        raise SourceError(f"{origin}: subset {subset} takes no seeds (known: {', '.join(SUBSET_DEFAULTS)})")
    defaults = SUBSET_DEFAULTS[subset]
    kind = raw.get("kind", defaults["kind"])
    if kind != defaults["kind"]:
        raise SourceError(f"{origin}.kind: {subset} seeds come from a {defaults['kind']} source, not {kind}")
    options = {k: v for k, v in defaults.items() if k not in ("kind", "convert")}
    options.update({k: raw[k] for k in OPTION_KEYS if k in raw})
    if kind == "docs":
        packages = raw.get("packages") or []
        if not packages:
            raise SourceError(f"{origin}.packages: list the documented packages (name, repo, revision, docs_dir)")
        parts = tuple(_part(kind, p, f"{origin}.packages[{i}]") for i, p in enumerate(packages))
        names = [p.name for p in parts]
        if len(set(names)) != len(names):
            raise SourceError(f"{origin}.packages: each package needs its own name (got {names})")
    elif "datasets" in raw:
        if subset != "Filter":
            raise SourceError(f"{origin}.datasets: only Filter reads several datasets; give repo/revision here")
        parts = tuple(_part(kind, d, f"{origin}.datasets[{i}]") for i, d in enumerate(raw["datasets"]))
    else:
        parts = (_part(kind, raw, origin),)
    return SubsetSource(subset=subset, kind=kind, convert=defaults["convert"], parts=parts, options=options)


def cache_dir(config: Mapping[str, Any]) -> str:
    return str(config.get("cache_dir") or DEFAULT_CACHE_DIR)


def manifest_path(config: Mapping[str, Any], unit: FetchUnit) -> str:
    return os.path.join(cache_dir(config), unit.key, "manifest.json")


def configured_source(config: Mapping[str, Any], subset: str) -> SubsetSource | None:
    """The subset's source, or None when ``seeds.<subset>`` (a prepared file) overrides it."""
    if subset in (config.get("seeds") or {}):
        return None
    raw = (config.get("sources") or {}).get(subset)
    if raw is None:
        raise SourceError(f"sources.{subset}: no seed source configured for subset {subset} "
                          f"(add sources.{subset}, or seeds.{subset} with a prepared seed file)")
    return subset_source(subset, raw)


def fetch_units(config: Mapping[str, Any], subsets: list[str]) -> dict[str, FetchUnit]:
    """Every unit the given subsets need from the download cache, by cache key."""
    units: dict[str, FetchUnit] = {}
    for s in subsets:
        src = configured_source(config, s)
        for p in src.parts if src else ():
            if p.unit.path is None:
                units.setdefault(p.unit.key, p.unit)
    return units


def _local_files(path: str, origin: str) -> list[str]:
    p = Path(path)
    if p.is_file():
        return [str(p)]
    if not p.is_dir():
        raise SourceError(f"{origin}.path: {path} does not exist (a local copy of the source in its own layout)")
    return sorted(str(f) for f in p.rglob("*") if f.is_file() and not any(x.startswith(".") for x in f.relative_to(p).parts))


def seed_inputs(config: Mapping[str, Any], subset: str) -> list[str]:
    """Input files of the ``seeds`` rule: the prepared seed file, or each part's cache manifest
    or local copy (every file under ``path:``, so editing one reruns the rule)."""
    src = configured_source(config, subset)
    if src is None:
        return [config["seeds"][subset]]
    files: list[str] = []
    for p in src.parts:
        files += _local_files(p.unit.path, p.unit.origin) if p.unit.path else [manifest_path(config, p.unit)]
    return files


def seed_plan(config: Mapping[str, Any], subset: str) -> dict[str, Any]:
    """Everything the ``seeds`` rule needs, as JSON-able params (a change reruns it)."""
    src = configured_source(config, subset)
    plan: dict[str, Any] = {"subset": subset, "seed": int(config["seed"]), "cache_dir": cache_dir(config)}
    if src is None:
        return {**plan, "file": config["seeds"][subset]}
    return {**plan, "source": src.to_dict(),
            "manifests": [None if p.unit.path else manifest_path(config, p.unit) for p in src.parts]}
