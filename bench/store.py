"""Benchmark: the packed content store against the one-file-per-record layout it replaced.

Writes N synthetic LLM-response records of about 4 KB (default 1,000,000) through
``ContentStore`` and measures, on that store:

* write rate (records/s, time spent in ``put``; checkpoints written along the way included),
* random look-up rate for hits and for misses (a fresh store object, so its index is read cold
  from the checkpoint file; the page cache is whatever the run left),
* ``stats`` time (a fresh store object) and ``export`` time (every record, sorted by key),
* disk use as allocated blocks (``du -sk``) and the number of files and folders.

The baseline is the earlier layout (one JSON file per record in 256 fan-out folders, written
through a temporary file and a hard link, read with ``open``, counted by reading every file),
reimplemented here as it was so that both run in the same process on the same disk. It runs
at a smaller N (default 100,000). Rates are per record and reported as measured; file count,
disk use and the stats and export times grow linearly with the number of records in that
layout and are scaled to N (the line says which). When the baseline failed or its numbers are
implausible (a file count or block count that does not match what was written), no ratios are
printed.

Records are built from the project's authored demo responses (prose, questions and Python),
cut and shuffled per record with unique numbers, so they compress like model output, not
like random bytes or repeated text. The last line is::

    RESULT n=... write_per_s=... hit_per_s=... miss_per_s=... stats_s=... export_s=... disk_mb=...
           files=... baseline_n=... baseline_... disk_ratio=... files_ratio=... stats_speedup=...

    python bench/store.py [--n 1000000] [--baseline-n 100000] [--lookups 20000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from kodcode.hashing import content_hash
from kodcode.store import ContentStore, decode_record, encode_record

ROOT = Path(__file__).resolve().parents[1]
POOL_FILES = sorted((ROOT / "demo" / "responses").glob("*.yaml"))


# ------------------------------------------------------------------ synthetic records


def text_pool() -> list[str]:
    """Pieces of realistic text: the authored demo responses, split into paragraphs."""
    pieces: list[str] = []
    for path in POOL_FILES:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for text in (data.get("responses") or {}).values():
            pieces.extend(p for p in str(text).split("\n\n") if len(p) > 40)
    if len(pieces) < 50:  # no demo folder: made-up prose and code
        rng = random.Random(7)
        words = ("the a list of values returns function each index sorted when value if number string is in "
                 "for and to with where must time input output example return count key node graph edge").split()
        for i in range(400):
            if i % 3:
                pieces.append(" ".join(rng.choice(words) for _ in range(rng.randint(30, 120))) + ".")
            else:
                name = "_".join(rng.choice(words) for _ in range(2))
                pieces.append(f"def {name}(values: list[int]) -> int:\n    total = 0\n    for v in values:\n"
                              f"        if v % {rng.randint(2, 9)} == 0:\n            total += v\n    return total")
    return pieces


class Records:
    """Record i is built from a seeded choice of pieces: the same i gives the same record."""

    def __init__(self, seed: int = 13) -> None:
        self.pool = text_pool()
        self.seed = seed

    def key(self, i: int) -> str:
        return content_hash(["bench", self.seed, i])

    def make(self, i: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + i)
        target = rng.randint(2600, 4200)
        parts: list[str] = []
        size = 0
        while size < target:
            piece = rng.choice(self.pool)
            if rng.random() < 0.5:  # a piece with its numbers changed, as answers to other inputs would have
                piece = "".join(str(rng.randint(0, 999)) if c.isdigit() else c for c in piece)
            parts.append(piece)
            size += len(piece) + 2
        prompt = rng.choice(self.pool)
        stage = rng.choice(["questions", "solutions", "solutions", "solutions", "style", "sft"])
        return {
            "request": {"model": rng.choice(["gpt-4o-2024-08-06", "DeepSeek-R1", "Qwen2.5-Coder-32B-Instruct"]),
                        "messages": [{"role": "system", "content": "You are a helpful coding assistant."},
                                     {"role": "user", "content": f"Task {i}: {prompt}"}],
                        "temperature": 0.7, "max_tokens": 2048, "seed": 10_000 + i},
            "stage": stage,
            "item_id": f"{stage}_{i:08d}",
            "backend": "openai",
            "received_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}+00:00",
            "response": {"text": "\n\n".join(parts)[:target], "finish_reason": "stop", "model": "bench-model",
                         "usage": {"prompt_tokens": 100 + i % 400, "completion_tokens": target // 4}, "error": None},
        }


# ------------------------------------------------------------------ the earlier layout


class OneFilePerRecord:
    """The store as it was before packing: ``root/ns/ab/<key>.json``, each written to a unique
    temporary name and hard-linked into place; ``stats`` lists and reads every file."""

    def __init__(self, root: Path, namespace: str = "responses") -> None:
        self.base = root / namespace
        for i in range(256):
            (self.base / f"{i:02x}").mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        return self.base / key[:2] / f"{key}.json"

    def put(self, key: str, record: dict[str, Any]) -> bool:
        path = self.path_for(key)
        data = encode_record(record)
        tmp = path.parent / f".{key}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with open(fd, "wb") as fh:
                fh.write(data)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(tmp)

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path_for(key), "rb") as fh:
                return decode_record(fh.read())
        except FileNotFoundError:
            return None

    def keys(self) -> Iterator[str]:
        for folder in sorted(p for p in self.base.iterdir() if p.is_dir()):
            for name in sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")):
                yield name[:-5]

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self.keys():
            rec = self.get(key)
            if rec is not None:
                yield key, rec

    def stats(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: {"records": 0, "prompt_tokens": 0, "completion_tokens": 0})
        for _, rec in self.items():
            row = out[str(rec.get("stage") or "-")]
            usage = (rec.get("response") or {}).get("usage") or {}
            row["records"] += 1
            row["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
            row["completion_tokens"] += int(usage.get("completion_tokens") or 0)
        return dict(out)

    def export(self, path: Path) -> int:
        n = 0
        with open(path, "w", encoding="utf-8") as fh:
            for key, rec in self.items():
                fh.write(json.dumps({"key": key, "record": rec}, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        return n


# ------------------------------------------------------------------ measuring


@dataclass
class Measured:
    n: int
    write_s: float = 0.0  # time inside put
    wall_write_s: float = 0.0
    hit_per_s: float = 0.0
    miss_per_s: float = 0.0
    stats_s: float = 0.0
    open_s: float = 0.0  # the first look-up of a fresh store object
    export_s: float = 0.0
    disk_bytes: int = 0
    files: int = 0
    folders: int = 0
    logical_bytes: int = 0  # the records' JSON
    counted: int = 0  # records stats reported
    exported: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def write_per_s(self) -> float:
        return self.n / self.write_s if self.write_s else 0.0


def disk_usage(path: Path) -> tuple[int, int, int]:
    """(allocated bytes as du counts them, regular files, folders)."""
    allocated, files, folders = 0, 0, 0
    for dirpath, dirnames, filenames in os.walk(path):
        folders += 1
        allocated += os.lstat(dirpath).st_blocks * 512
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            allocated += st.st_blocks * 512
            files += 1
    return allocated, files, folders


def write_all(put: Callable[[str, dict[str, Any]], bool], records: Records, n: int, m: Measured,
              label: str, every: int) -> None:
    started = time.perf_counter()
    inside = 0.0
    for i in range(n):
        rec = records.make(i)
        m.logical_bytes += len(json.dumps(rec, ensure_ascii=False, sort_keys=True).encode())
        key = records.key(i)
        t = time.perf_counter()
        if not put(key, rec):
            m.problems.append(f"put of record {i} returned False")
            break
        inside += time.perf_counter() - t
        if every and (i + 1) % every == 0:
            print(f"  {label}: {i + 1:,}/{n:,} written, {(i + 1) / inside:,.0f}/s in put", flush=True)
    m.write_s = inside
    m.wall_write_s = time.perf_counter() - started


def look_up(get: Callable[[str], dict[str, Any] | None], records: Records, n: int, lookups: int, m: Measured) -> None:
    rng = random.Random(99)
    hits = [rng.randrange(n) for _ in range(lookups)]
    keys = [records.key(i) for i in hits]
    t = time.perf_counter()
    get(content_hash(["warm-up"]))  # a fresh store object reads its index on the first look-up
    m.open_s = time.perf_counter() - t
    t = time.perf_counter()
    for i, key in zip(hits, keys):
        rec = get(key)
        if rec is None or rec["item_id"].rpartition("_")[2] != f"{i:08d}":
            m.problems.append(f"look-up of record {i} returned {'nothing' if rec is None else 'another record'}")
            break
    m.hit_per_s = lookups / (time.perf_counter() - t)
    misses = [content_hash(["absent", j]) for j in range(lookups)]
    t = time.perf_counter()
    for key in misses:
        if get(key) is not None:
            m.problems.append("a key never written was found")
            break
    m.miss_per_s = lookups / (time.perf_counter() - t)


def run_packed(root: Path, records: Records, n: int, lookups: int, export: bool) -> Measured:
    m = Measured(n)
    store = ContentStore(root, "responses")
    write_all(store.put, records, n, m, "packed", max(n // 10, 1))
    t = time.perf_counter()
    store.close()  # publishes the last records
    m.write_s += time.perf_counter() - t
    m.disk_bytes, m.files, m.folders = disk_usage(root)

    fresh = ContentStore(root, "responses")
    t = time.perf_counter()
    stats = fresh.stats()
    m.stats_s = time.perf_counter() - t
    m.counted = sum(r["records"] for r in stats.values())
    look_up(ContentStore(root, "responses").get, records, n, lookups, m)
    if export:
        out = root.parent / f"{root.name}.export.jsonl"
        t = time.perf_counter()
        m.exported = ContentStore(root, "responses").export(out)
        m.export_s = time.perf_counter() - t
        out.unlink()
    if m.counted != n:
        m.problems.append(f"stats counted {m.counted} records, {n} were written")
    if export and m.exported != n:
        m.problems.append(f"export wrote {m.exported} records, {n} were written")
    return m


def run_baseline(root: Path, records: Records, n: int, lookups: int, export: bool) -> Measured:
    m = Measured(n)
    try:
        store = OneFilePerRecord(root)
        write_all(store.put, records, n, m, "one file per record", max(n // 5, 1))
        m.disk_bytes, m.files, m.folders = disk_usage(root)
        t = time.perf_counter()
        stats = store.stats()
        m.stats_s = time.perf_counter() - t
        m.counted = sum(r["records"] for r in stats.values())
        look_up(store.get, records, n, lookups, m)
        if export:
            out = root.parent / f"{root.name}.export.jsonl"
            t = time.perf_counter()
            m.exported = store.export(out)
            m.export_s = time.perf_counter() - t
            out.unlink()
    except OSError as exc:
        m.problems.append(f"the baseline failed: {exc}")
        return m
    # plausibility: one file per record, at least one allocated block each
    if m.files != n:
        m.problems.append(f"{m.files} files for {n} records")
    if m.disk_bytes < n * 512:
        m.problems.append(f"{m.disk_bytes} bytes allocated for {n} files")
    if m.counted != n or (export and m.exported != n):
        m.problems.append(f"stats counted {m.counted}, export wrote {m.exported}, of {n}")
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="records in the packed store (default 1,000,000)")
    ap.add_argument("--baseline-n", type=int, default=100_000,
                    help="records in the one-file-per-record baseline (default 100,000; at most --n)")
    ap.add_argument("--lookups", type=int, default=20_000, help="random look-ups of each kind (hits, misses)")
    ap.add_argument("--no-export", action="store_true", help="skip the export timing")
    ap.add_argument("--dir", type=Path, default=None, help="where to build the stores (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = ap.parse_args()
    base_n = min(args.baseline_n, args.n)
    lookups = min(args.lookups, base_n)
    export = not args.no_export

    work = Path(tempfile.mkdtemp(prefix="kodcode-store-bench-", dir=args.dir))
    print(f"store benchmark in {work} ({platform.node()}, {platform.system()} {platform.release()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()})", flush=True)
    records = Records()
    started = time.perf_counter()
    try:
        new = run_packed(work / "packed", records, args.n, lookups, export)
        print(f"packed: {args.n:,} records, {new.write_per_s:,.0f} puts/s, {new.hit_per_s:,.0f} hits/s, "
              f"{new.miss_per_s:,.0f} misses/s (first look-up {new.open_s * 1000:.0f} ms), "
              f"stats {new.stats_s:.3f}s, export {new.export_s:.1f}s, "
              f"{new.disk_bytes / 1e6:,.0f} MB on disk for {new.logical_bytes / 1e6:,.0f} MB of JSON, "
              f"{new.files} files in {new.folders} folders", flush=True)
        old = run_baseline(work / "onefile", records, base_n, lookups, export)
        scale = args.n / base_n
        print(f"one file per record: {base_n:,} records, {old.write_per_s:,.0f} puts/s, {old.hit_per_s:,.0f} hits/s, "
              f"{old.miss_per_s:,.0f} misses/s, stats {old.stats_s:.2f}s, export {old.export_s:.1f}s, "
              f"{old.disk_bytes / 1e6:,.0f} MB on disk, {old.files} files in {old.folders} folders", flush=True)
        if scale != 1:
            print(f"  scaled to {args.n:,} records (x{scale:g}; linear in this layout): stats {old.stats_s * scale:.1f}s, "
                  f"export {old.export_s * scale:.0f}s, {old.disk_bytes * scale / 1e6:,.0f} MB, "
                  f"{old.files * scale:,.0f} files; rates are not scaled", flush=True)
        print(f"took {time.perf_counter() - started:.0f}s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    fields = [f"n={args.n}", f"write_per_s={new.write_per_s:.0f}", f"hit_per_s={new.hit_per_s:.0f}",
              f"miss_per_s={new.miss_per_s:.0f}", f"open_ms={new.open_s * 1000:.0f}", f"stats_s={new.stats_s:.3f}"]
    if export:
        fields.append(f"export_s={new.export_s:.1f}")
    fields += [f"disk_mb={new.disk_bytes / 1e6:.0f}", f"files={new.files}", f"folders={new.folders}",
               f"json_mb={new.logical_bytes / 1e6:.0f}", f"baseline_n={base_n}",
               f"baseline_write_per_s={old.write_per_s:.0f}", f"baseline_hit_per_s={old.hit_per_s:.0f}",
               f"baseline_miss_per_s={old.miss_per_s:.0f}",
               f"baseline_stats_s_at_n={old.stats_s * scale:.1f}",
               f"baseline_disk_mb_at_n={old.disk_bytes * scale / 1e6:.0f}", f"baseline_files_at_n={old.files * scale:.0f}"]
    if new.problems or old.problems:
        for p in new.problems:
            print(f"packed store: {p}")
        for p in old.problems:
            print(f"baseline: {p}")
        print("NO RATIOS: a run above failed or gave implausible numbers")
        print("RESULT " + " ".join(fields) + " ratios=none")
        return
    fields += [f"disk_ratio={old.disk_bytes * scale / new.disk_bytes:.1f}",
               f"files_ratio={old.files * scale / new.files:.0f}",
               f"stats_speedup={old.stats_s * scale / new.stats_s:.0f}",
               f"write_ratio={new.write_per_s / old.write_per_s:.2f}",
               f"hit_ratio={new.hit_per_s / old.hit_per_s:.2f}", f"miss_ratio={new.miss_per_s / old.miss_per_s:.2f}"]
    if export:
        fields.append(f"export_speedup={old.export_s * scale / new.export_s:.2f}")
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
