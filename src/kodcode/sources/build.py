"""The two rule entry points: fetch one unit into the cache; build one subset's seeds."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..jsonl import write_json, write_jsonl
from ..seeds import SeedReport, validate_rows
from ..stages.common import write_stats
from ..subsets import spec
from . import convert, github, hf
from .cache import publish_dir, read_manifest, sha256_file
from .errors import SourceError
from .spec import FetchUnit, Part, SubsetSource

log = logging.getLogger("kodcode.sources")

OFFLINE_HINT = ("fetch it where the network is reachable and copy that folder here, or point the "
                "source's path: at a local copy in the same layout")


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a :class:`SourceError` into one line on stderr (the rule's log) and exit 1: the
    user sees what to fix, not a traceback."""
    try:
        yield
    except SourceError as exc:
        log.error("%s", exc)
        print(f"ERROR: {exc}", file=sys.__stderr__)
        raise SystemExit(1) from None


# ---------------------------------------------------------------------------- fetch_source


def _verify_existing(unit: FetchUnit, data: Path) -> dict[str, Any]:
    """Re-check a complete ``data/`` folder whose manifest is missing (e.g. deleted outputs)."""
    record = read_verified(data)
    if unit.kind == "github":
        archive = data / "archive.tar.gz"
        if sha256_file(archive) != record.get("sha256"):
            raise SourceError(f"{data}: cached archive of {unit.describe()} changed since it was fetched; delete {data}")
    else:
        now = hf.snapshot_files(data / "snapshot")
        if [(f["path"], f["sha256"]) for f in now] != [(f["path"], f["sha256"]) for f in record.get("files", [])]:
            raise SourceError(f"{data}: cached snapshot of {unit.describe()} changed since it was fetched; delete {data}")
    return record


def read_verified(data: Path) -> dict[str, Any]:
    try:
        return json.loads((data / "verified.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SourceError(f"{data}: no readable verified.json; delete {data} to fetch again") from None


def fetch_unit(unit_dict: Mapping[str, Any], manifest: str, opener: Any = None, hf_api: Any = None,
               hf_download: Any = None) -> dict[str, Any]:
    """The ``fetch_source`` rule: make sure ``<entry>/data`` holds a verified copy of the unit
    and write ``<entry>/manifest.json`` last. ``opener``/``hf_*``: injectable for tests."""
    unit = FetchUnit.from_dict(unit_dict)
    entry = Path(manifest).parent
    data = entry / "data"
    if data.is_dir():
        record = _verify_existing(unit, data)
        log.info("%s: reusing %s", unit.describe(), data)
    else:
        tmp = entry / f"data.part-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            log.info("%s: fetching into %s", unit.describe(), entry)
            if unit.kind == "github":
                record = github.fetch_archive(unit.repo, unit.revision, tmp / "archive.tar.gz", unit.sha256,
                                              unit.pinned, opener=opener)
            else:
                record = hf.fetch_snapshot(unit.repo, unit.revision, list(unit.allow_patterns), tmp / "snapshot",
                                           unit.pinned, api=hf_api, download=hf_download)
            record.update({"unit": unit.to_dict(), "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            write_json(tmp / "verified.json", record)
            publish_dir(tmp, data)
        except SourceError:
            raise
        except Exception as exc:  # network, hub, HTTP: one line naming source, revision, cache path
            reason = (str(exc).splitlines() or [exc.__class__.__name__])[0][:200]
            raise SourceError(f"{unit.origin}: {unit.describe()} is not in the download cache ({entry}) and "
                              f"fetching it failed ({exc.__class__.__name__}: {reason}); {OFFLINE_HINT}") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        record = read_verified(data)
    out = {**record, "data": "data", "key": unit.key}
    write_json(Path(manifest), out)
    log.info("%s: resolved revision %s", unit.describe(), record.get("resolved_revision"))
    return out


# ---------------------------------------------------------------------------- seeds


def locate(part: Part, manifest: str | None) -> tuple[Path, dict[str, Any]]:
    """Where a part's data is (cache entry or local copy) and what is known about its revision."""
    unit = part.unit
    if unit.path:
        loc = Path(unit.path)
        info: dict[str, Any] = {"source": unit.describe(), "path": unit.path, "resolved_revision": None,
                                "verified": "local copy (not fetched)"}
        if unit.kind == "github" and loc.is_file():
            info["resolved_revision"] = github.check_commit(loc, unit.repo, unit.revision, unit.pinned,
                                                            f"{unit.origin}.path")
        return loc, info
    assert manifest is not None
    m = read_manifest(manifest)
    data = Path(manifest).parent / m.get("data", "data")
    loc = data / ("archive.tar.gz" if unit.kind == "github" else "snapshot")
    checks = [k for k in ("revision_checked", "sha256_checked") if m.get(k)]
    if m.get("lfs_sha256_checked"):
        checks.append(f"{m['lfs_sha256_checked']} files against hub sha256")
    return loc, {"source": unit.describe(), "cache": str(Path(manifest).parent),
                 "resolved_revision": m.get("resolved_revision"), "verified": ", ".join(checks) or "not verified"}


def _hf_rows(part: Part, loc: Path, columns: list[str], hf_cache: str | None) -> list[tuple[int, dict[str, Any]]]:
    ds = hf.load_split(loc, part.config, part.split, part.data_files, hf_cache, part.unit.origin)
    return list(hf.iter_rows(ds, columns, f"{part.unit.origin} ({part.unit.repo})"))


def source_rows(src: SubsetSource, locations: list[Path], global_seed: int, hf_cache: str | None,
                tally: convert.Tally) -> list[dict[str, Any]]:
    """Candidate seed rows of a subset from its parts' data (before validation)."""
    o = src.options
    rows: list[dict[str, Any]] = []
    for part, loc in zip(src.parts, locations):
        if src.convert in ("statement", "leetcode", "magpie"):
            cols = [o["field"]] + ([o["id_field"]] if o.get("id_field") else [])
            raw = _hf_rows(part, loc, cols, hf_cache)
            raw = convert.sample_rows(raw, o.get("sample"), global_seed, src.subset, tally)
            prefix = f"{part.name}/" if len(src.parts) > 1 else ""
            got = convert.statement_seeds(raw, o["field"], o.get("id_field"), tally,
                                          convert.leetcode_statement if src.convert == "leetcode" else None, prefix)
            if src.convert == "magpie":
                got = convert.keep_matching(got, o["keep_pattern"], tally, "not Python-related")
            rows += got
        elif src.convert == "snippets":
            want = lambda p: github.matches(p, o["include"]) is not None  # noqa: E731
            rows += convert.snippet_seeds(github.read_tree(loc, want), o["include"], o["exclude"], tally)
        elif src.convert == "docs":
            prefixes = tuple(d.strip("/") + "/" for d in part.docs_dir)
            want = lambda p: p.startswith(prefixes) and github.matches(p, o["include"]) is not None  # noqa: E731
            rows += convert.doc_seeds(part.name, github.read_tree(loc, want), part.docs_dir, o["include"],
                                      o["exclude"], int(o["max_chars"]), int(o["min_chars"]), tally)
        else:
            raise SourceError(f"sources.{src.subset}: no converter {src.convert!r}")
    return rows


def harvest(src: SubsetSource, manifests: list[str | None], global_seed: int, hf_cache: str | None = None
            ) -> tuple[list[dict[str, Any]], SeedReport, list[dict[str, Any]]]:
    """A subset's validated seeds (sorted by id), the read/kept/dropped report, and per part
    what was read (source, revision, how it was verified)."""
    located = [locate(p, m) for p, m in zip(src.parts, manifests)]
    tally = convert.Tally()
    rows = source_rows(src, [loc for loc, _ in located], global_seed, hf_cache, tally)
    report = SeedReport(read=tally.read, dropped=tally.dropped)
    seeds, report = validate_rows(rows, spec(src.subset), report, count_read=False)
    return seeds, report, [info for _, info in located]


def build_seeds(plan: Mapping[str, Any], out_seeds: str, out_stats: str) -> None:
    """The ``seeds`` rule: a prepared seed file (``seeds.<Subset>``) or the subset's source ->
    ``seeds.jsonl`` + ``seeds.stats.json`` (rows read, kept, dropped by reason, sources)."""
    subset = plan["subset"]
    with one_line_errors():
        if plan.get("file"):
            from ..seeds import load_seeds

            try:
                seeds, report = load_seeds(plan["file"], spec(subset))
            except (FileNotFoundError, ValueError) as exc:
                raise SourceError(str(exc)) from None
            sources = [{"source": f"file {plan['file']}", "verified": "prepared seed file (seeds.{})".format(subset)}]
        else:
            src = SubsetSource.from_dict(plan["source"])
            hf_cache = str(Path(plan["cache_dir"]) / "datasets")
            seeds, report, sources = harvest(src, plan["manifests"], int(plan["seed"]), hf_cache)
        write_jsonl(out_seeds, seeds)
        write_stats(out_stats, "seeds", subset=subset, **report.to_dict(), sources=sources)
