"""The two rule entry points: fetch one unit into the cache; build one subset's seeds."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ..jsonl import write_json, write_jsonl
from ..seeds import Malformed, SeedReport, json_lines, load_seeds, validate_rows
from ..stages.common import write_stats
from ..subsets import spec
from . import convert, github, hf
from .cache import publish_dir, read_manifest, sha256_file
from .errors import InputError, SourceError, one_line_errors
from .spec import FetchUnit, Part, SubsetSource

log = logging.getLogger("kodcode.sources")

OFFLINE_HINT = ("fetch it where the network is reachable and copy that folder here, or point the "
                "source's path: at a local copy in the same layout")


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


JSON_SUFFIXES = (".jsonl", ".json")


def _patterns(data_files: Any) -> list[str]:
    if isinstance(data_files, str):
        return [data_files]
    values = data_files.values() if isinstance(data_files, dict) else data_files
    return [p for v in values for p in _patterns(v)]


def _json_data_files(part: Part, loc: Path, hf_cache: str | None) -> list[Path]:
    """The JSON(-lines) files ``datasets`` reads for ``part``: every split's, as it prepares all."""
    if not loc.is_dir() or not any(f.suffix in JSON_SUFFIXES for f in loc.rglob("*")):
        return []
    if part.data_files:
        files = {f for pat in _patterns(part.data_files) for f in loc.glob(pat)}
    else:
        import datasets

        try:
            builder = datasets.load_dataset_builder(str(loc), name=part.config, cache_dir=hf_cache)
        except Exception:  # noqa: BLE001 - hf.load_split names the problem in one line
            return []
        # datasets resolves to absolute paths; name them as the config does (relative to loc)
        files = {loc / Path(str(f)).resolve().relative_to(loc.resolve())
                 for fs in (builder.config.data_files or {}).values() for f in fs}
    return sorted(f for f in files if f.suffix in JSON_SUFFIXES and f.is_file())


def _one_document(path: Path) -> bool:
    """A ``.json`` file holding one JSON document (not JSON lines): nothing to screen by line."""
    try:
        json.loads(path.read_bytes().decode("utf-8"))
        return True
    except ValueError:  # UnicodeDecodeError is one
        return False


def _malformed_lines(files: list[Path]) -> tuple[dict[Path, list[Malformed]], int]:
    """Per file, the lines ``datasets`` would choke on (or, worse, pass on as broken text), and
    how many good lines those files keep."""
    bad: dict[Path, list[Malformed]] = {}
    good = 0
    for f in files:
        if f.suffix == ".json" and _one_document(f):
            continue
        found, n = [], 0
        for _, _, value in json_lines(f):  # streamed: a source file may be larger than memory
            n += 1
            if isinstance(value, Malformed):
                found.append(value)
        if found:
            bad[f] = found
            good += n - len(found)
    return bad, good


def _screened_copy(loc: Path, bad: dict[Path, list[Malformed]], dest: Path) -> None:
    """``loc`` as symlinks under ``dest``, except the files of ``bad``, written with their good lines only."""
    damaged = {f.resolve() for f in bad}
    for f in sorted(loc.rglob("*")):
        rel = f.relative_to(loc)
        if not f.is_file() or any(x.startswith(".") for x in rel.parts):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if f.resolve() in damaged:
            with open(dest / rel, "wb") as out:
                for _, raw, value in json_lines(f):
                    if not isinstance(value, Malformed):
                        out.write(raw if raw.endswith(b"\n") else raw + b"\n")
        else:
            (dest / rel).symlink_to(f.resolve())


def _hf_rows(part: Part, loc: Path, columns: list[str], hf_cache: str | None,
             tally: convert.Tally) -> list[tuple[int, dict[str, Any]]]:
    """The part's rows. Malformed lines of its JSON-lines files are dropped, counted and named
    first: ``datasets`` would reject the whole file for one of them."""
    where = f"{part.unit.origin} ({part.unit.repo})"
    files = _json_data_files(part, loc, hf_cache)
    bad, good = _malformed_lines(files)
    if not bad:
        ds = hf.load_split(loc, part.config, part.split, part.data_files, hf_cache, part.unit.origin)
        return list(hf.iter_rows(ds, columns, where))
    for found in bad.values():
        tally.read += len(found)
        tally.dropped.update(m.reason for m in found)
        tally.malformed += found
    if not good and len(bad) == len(files):  # not one good line: nothing to load (datasets would fail)
        return []
    if hf_cache:
        Path(hf_cache).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screened-", dir=hf_cache) as tmp:
        copy = Path(tmp) / loc.name
        _screened_copy(loc, bad, copy)
        # its own datasets cache: the copy and what was built from it go together
        ds = hf.load_split(copy, part.config, part.split, part.data_files, str(Path(tmp) / "cache"),
                           part.unit.origin)
        return list(hf.iter_rows(ds, columns, where))


def source_rows(src: SubsetSource, locations: list[Path], global_seed: int, hf_cache: str | None,
                tally: convert.Tally) -> list[dict[str, Any]]:
    """Candidate seed rows of a subset from its parts' data (before validation)."""
    o = src.options
    rows: list[dict[str, Any]] = []
    for part, loc in zip(src.parts, locations):
        if src.convert in ("statement", "leetcode", "magpie"):
            cols = [o["field"]] + ([o["id_field"]] if o.get("id_field") else [])
            raw = _hf_rows(part, loc, cols, hf_cache, tally)
            raw = convert.sample_rows(raw, o.get("sample"), global_seed, src.subset, tally)
            prefix = f"{part.name}/" if len(src.parts) > 1 else ""
            got = convert.statement_seeds(raw, o["field"], o.get("id_field"), tally,
                                          convert.leetcode_statement if src.convert == "leetcode" else None, prefix)
            if src.convert == "magpie":
                got = convert.keep_matching(got, o["keep_pattern"], tally, "not Python-related")
            rows += got
        elif src.convert == "snippets":
            want = lambda p: github.matches(p, o["include"]) is not None  # noqa: E731
            rows += convert.snippet_seeds(github.read_tree(loc, want), o["include"], o["exclude"], tally, str(loc))
        elif src.convert == "docs":
            prefixes = tuple(d.strip("/") + "/" for d in part.docs_dir)
            want = lambda p: p.startswith(prefixes) and github.matches(p, o["include"]) is not None  # noqa: E731
            rows += convert.doc_seeds(part.name, github.read_tree(loc, want), part.docs_dir, o["include"],
                                      o["exclude"], int(o["max_chars"]), int(o["min_chars"]), tally, str(loc))
        else:
            raise SourceError(f"sources.{src.subset}: no converter {src.convert!r}")
    return rows


def harvest(src: SubsetSource, manifests: list[str | None], global_seed: int, hf_cache: str | None = None,
            max_chars: int | None = None) -> tuple[list[dict[str, Any]], SeedReport, list[dict[str, Any]]]:
    """A subset's validated seeds (sorted by id), the read/kept/dropped report, and per part
    what was read (source, revision, how it was verified). ``max_chars``: llm.max_prompt_chars."""
    located = [locate(p, m) for p, m in zip(src.parts, manifests)]
    tally = convert.Tally()
    rows = source_rows(src, [loc for loc, _ in located], global_seed, hf_cache, tally)
    report = SeedReport(read=tally.read, dropped=tally.dropped, malformed=tally.malformed)
    seeds, report = validate_rows(rows, spec(src.subset), report, count_read=False, max_chars=max_chars)
    return seeds, report, [info for _, info in located]


def build_seeds(plan: Mapping[str, Any], out_seeds: str, out_stats: str,
                max_prompt_chars: int | None = None) -> list[str]:
    """The ``seeds`` rule: a prepared seed file (``seeds.<Subset>``) or the subset's source ->
    ``seeds.jsonl`` + ``seeds.stats.json`` (rows read, kept, dropped by reason, sources).

    Seeds longer than ``max_prompt_chars`` (llm.max_prompt_chars, which the workflow always
    passes; None: no limit) are dropped: they would make a prompt no model should be sent. Returns the console notes on what the user should look at
    (malformed lines, over-long seeds); no valid seed at all is an :class:`InputError`."""
    subset = plan["subset"]
    with one_line_errors():
        if plan.get("file"):
            try:
                seeds, report = load_seeds(plan["file"], spec(subset), max_prompt_chars)
            except FileNotFoundError as exc:
                raise SourceError(str(exc)) from None
            sources = [{"source": f"file {plan['file']}", "verified": "prepared seed file (seeds.{})".format(subset)}]
            origin, fix = f"seeds.{subset}: {plan['file']}", f"fix the file or point seeds.{subset} at another"
        else:
            src = SubsetSource.from_dict(plan["source"])
            hf_cache = str(Path(plan["cache_dir"]) / "datasets")
            seeds, report, sources = harvest(src, plan["manifests"], int(plan["seed"]), hf_cache, max_prompt_chars)
            origin = f"sources.{subset}: " + ", ".join(s.get("path") or s["source"] for s in sources)
            fix = f"check the source, or the field options of sources.{subset} (docs/seeds.md)"
        if not seeds:
            at = f", malformed at {report.malformed_lines()}" if report.malformed_lines() else ""
            raise InputError(f"{origin} gives no valid seed ({report.read} read; dropped: {report.summary()}{at}); "
                             f"{fix}")
        notes = report.notes(subset, out_stats)
        write_jsonl(out_seeds, seeds)
        write_stats(out_stats, "seeds", subset=subset, **report.to_dict(), sources=sources)
        for note in notes:
            log.warning("%s", note)
    return notes
