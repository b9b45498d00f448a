"""The checkpoint file (the log folded into an index sorted by key) and the view a process
builds from a checkpoint and the log entries after it. See ``packed.py`` for how they are used
and docs/store.md for why.

A checkpoint file is::

    header: magic, entries, where the index starts, blocks, where the fences start, where the
            manifest starts, its length
    index:  48-byte entries (key33, publication order, segment number, offset, frame length),
            sorted, so the 256 key-prefix shards are contiguous ranges ("bounds")
    fences: the first key33 of each block of 64 entries and the block's CRC-32
    manifest: JSON (log position, generation, segment list, counts, stats totals, bounds, and
            the base checkpoint whose index this one adds to, if any) and its CRC-32
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import ESTALE, Stale, open_published, unreadable_error
from .records import StoreError, add_meta, key33, merge_rows, rows_from_json, rows_to_json

CKPT_MAGIC = b"KCCKPT1\n"


CKPT_HEAD = struct.Struct("<8sQQQQQQ")  # magic, entries, index at, blocks, fences at, manifest at, manifest bytes


BLOCK = 64  # index entries per block: one read per look-up


ENT_STRUCT = struct.Struct(">33sIBHII")  # key33, publication order, segment number (24 bits), offset, frame length


ENT = ENT_STRUCT.size  # 48


FENCE = 37  # a block's first key33 and the CRC-32 of the block


@dataclass
class SegInfo:
    name: str
    end: int = 0  # published up to this offset
    final: bool = False  # its writer is done with it (or it was abandoned)
    retired: float | None = None  # when compaction moved its records elsewhere (unix time)

    def to_json(self) -> list[Any]:
        return [self.name, self.end, self.final, self.retired]


Cand = tuple[int, int, int, int]  # publication order, segment number, offset, frame length


class DamagedCheckpoint(ValueError):
    pass


class Checkpoint:
    """One checkpoint file, read with ``pread`` (not mmap: on NFS a file deleted by another
    host turns a mapped page into SIGBUS, a read into an error we can recover from)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = open_published(path)
        try:
            head = os.pread(self.fd, CKPT_HEAD.size, 0)
            if len(head) != CKPT_HEAD.size:
                raise DamagedCheckpoint("cut short")
            magic, self.n_entries, self.index_at, self.n_blocks, fences_at, man_at, man_len = CKPT_HEAD.unpack(head)
            if magic != CKPT_MAGIC:
                raise DamagedCheckpoint("not a checkpoint file")
            raw = os.pread(self.fd, man_len + 4, man_at)
            if len(raw) != man_len + 4 or zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
                raise DamagedCheckpoint("manifest checksum does not match")
            self.manifest: dict[str, Any] = json.loads(raw[:-4])
            fences = os.pread(self.fd, self.n_blocks * FENCE, fences_at)
            if len(fences) != self.n_blocks * FENCE:
                raise DamagedCheckpoint("cut short")
            self.fences = [fences[i:i + 33] for i in range(0, len(fences), FENCE)]
            self.crcs = [struct.unpack_from("<I", fences, i + 33)[0] for i in range(0, len(fences), FENCE)]
            self.bounds: list[int] = self.manifest["bounds"]
        except BaseException:
            os.close(self.fd)
            raise

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def _pread(self, n: int, at: int) -> bytes:
        try:
            data = os.pread(self.fd, n, at)
        except OSError as exc:
            if exc.errno == ESTALE:
                raise Stale() from None
            raise unreadable_error(self.path, exc) from None
        if len(data) != n:
            raise Stale()
        return data

    def block(self, i: int) -> bytes:
        n = min(BLOCK, self.n_entries - i * BLOCK)
        data = self._pread(n * ENT, self.index_at + i * BLOCK * ENT)
        if zlib.crc32(data) != self.crcs[i]:
            raise StoreError(f"store index {self.path} is damaged (block {i} fails its checksum); run "
                             f"kodcode store verify --repair --root {self.path.parents[2]} --namespace "
                             f"{self.path.parents[1].name} to rebuild it")
        return data

    def find(self, k: bytes) -> list[Cand]:
        """Every indexed record of key33 ``k``, in publication order."""
        out: list[Cand] = []
        if not self.n_blocks:
            return out
        b = max(bisect.bisect_left(self.fences, k) - 1, 0)
        while b < self.n_blocks:
            data = self.block(b)
            n = len(data) // ENT
            lo, hi = 0, n
            while lo < hi:
                mid = (lo + hi) // 2
                if data[mid * ENT:mid * ENT + 33] < k:
                    lo = mid + 1
                else:
                    hi = mid
            j = lo
            while j < n and data[j * ENT:j * ENT + 33] == k:
                out.append(unpack(data, j * ENT))
                j += 1
            if j < n or b + 1 >= self.n_blocks or self.fences[b + 1] != k:
                return out
            b += 1
        return out

    def shard_raw(self, shard: int) -> bytes:
        lo, hi = self.bounds[shard], self.bounds[shard + 1]
        return self._pread((hi - lo) * ENT, self.index_at + lo * ENT) if hi > lo else b""


def open_view(folder: Path, name: str) -> View:
    """The view of checkpoint ``name``, with the base index it adds to (if any)."""
    ck = Checkpoint(folder / name)
    base_name = ck.manifest.get("base")
    if not base_name:
        return View(ck)
    try:
        return View(ck, Checkpoint(folder / base_name))
    except FileNotFoundError:
        ck.close()
        raise DamagedCheckpoint(f"the index it adds to, {base_name}, is missing") from None
    except BaseException:
        ck.close()
        raise


def read_manifest(path: Path) -> dict[str, Any]:
    """Only a checkpoint's manifest (its index may be damaged)."""
    fd = open_published(path)
    try:
        head = os.pread(fd, CKPT_HEAD.size, 0)
        magic, _n, _i, _b, _f, man_at, man_len = CKPT_HEAD.unpack(head)
        raw = os.pread(fd, man_len + 4, man_at)
    finally:
        os.close(fd)
    if magic != CKPT_MAGIC or zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
        raise DamagedCheckpoint("manifest checksum does not match")
    return json.loads(raw[:-4])


def unpack(data: bytes, pos: int) -> Cand:
    _, seq, hi, lo, off, length = ENT_STRUCT.unpack_from(data, pos)
    return seq, (hi << 16) | lo, off, length


def pack(k: bytes, c: Cand) -> bytes:
    seq, no, off, length = c
    return ENT_STRUCT.pack(k, seq, no >> 16, no & 0xFFFF, off, length)


class View:
    """What one process knows: a checkpoint plus the log entries replayed after it."""

    def __init__(self, ckpt: Checkpoint | None, base: Checkpoint | None = None) -> None:
        self.ckpt = ckpt  # the checkpoint: its index holds everything, or (with a base) what came after the base
        self.base = base  # the older, larger index that the checkpoint's index adds to
        m = ckpt.manifest if ckpt is not None else {}
        self.ckpt_n: int = m.get("log", 0)
        self.ckpt_gen: int = m.get("gen", 0)
        self.log_n = self.ckpt_n
        self.next_seq: int = m.get("next_seq", 0)
        self.segs = [SegInfo(*s) for s in m.get("segments", [])]
        self.seg_no = {s.name: i for i, s in enumerate(self.segs)}
        self.ckpt_keys: int = m.get("keys", 0)
        self.ckpt_records: int = m.get("records", 0)
        self.ckpt_rows = rows_from_json(m.get("stats", {}))
        self.tail: dict[str, list[Cand]] = {}  # records published after the checkpoint
        self.tail_records = 0
        self.tail_keys = 0  # of those, first of their key
        self.tail_rows: dict[str, dict[str, Any]] = {}
        self.entries_since = 0

    def close(self) -> None:
        for ck in (self.ckpt, self.base):
            if ck is not None:
                ck.close()

    def levels(self) -> list[Checkpoint]:
        """The index files, oldest records first."""
        return [ck for ck in (self.base, self.ckpt) if ck is not None]

    def segno(self, name: str) -> int:
        no = self.seg_no.get(name)
        if no is None:
            no = self.seg_no[name] = len(self.segs)
            self.segs.append(SegInfo(name))
        return no

    def candidates(self, key: str) -> list[Cand]:
        out: list[Cand] = []
        if self.ckpt is not None:
            k = key33(key)
            if self.base is not None:
                out = self.base.find(k)
            out += self.ckpt.find(k)
        tail = self.tail.get(key)
        return out + tail if tail else out

    def has(self, key: str) -> bool:
        if key in self.tail:
            return True
        if self.ckpt is None:
            return False
        k = key33(key)
        return bool(self.ckpt.find(k)) or (self.base is not None and bool(self.base.find(k)))

    @property
    def keys_count(self) -> int:
        return self.ckpt_keys + self.tail_keys

    @property
    def records_count(self) -> int:
        return self.ckpt_records + self.tail_records

    def apply(self, entry: dict[str, Any]) -> None:
        """Replay one log entry. Records below what an earlier entry already published (two
        processes published the same bytes) and records of retired segments are skipped, the
        same way by every reader."""
        ranges = entry.get("ranges", [])
        starts = []
        for name, _end, _final in ranges:
            no = self.segno(name)
            starts.append((no, self.segs[no].end))
        for ri, key, off, length, winner, meta in entry.get("records", []):
            no, start = starts[ri]
            if off < start or self.segs[no].retired is not None:
                continue
            cand = (self.next_seq, no, off, length)
            self.next_seq += 1
            have = self.tail.get(key)
            if have is None:
                self.tail[key] = [cand]
            else:
                have.append(cand)
            self.tail_records += 1
            if winner:
                self.tail_keys += 1
                add_meta(self.tail_rows, meta)
        for (name, end, final), (no, _) in zip(ranges, starts):
            seg = self.segs[no]
            seg.end = max(seg.end, end)
            seg.final = seg.final or bool(final)
        self.entries_since += 1


@dataclass
class Compaction:
    """What a compaction changes in the checkpoint it writes."""

    relocate: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (seg, off) -> (new seg i, off)
    drop: set[tuple[int, int]] = field(default_factory=set)  # (seg, off) of records left out
    retire: set[int] = field(default_factory=set)  # segments whose records are all moved or dropped
    new_segs: list[SegInfo] = field(default_factory=list)


def write_checkpoint(path: Path, v: View, gen: int, comp: Compaction, base_name: str | None = None) -> None:
    """The checkpoint of view ``v`` at its log position, one shard at a time (memory stays at
    one shard's index), with compaction ``comp``'s moves. With ``base_name`` its index holds
    only what the base does not (the view's own delta, if any, and its log tail); else all of
    it. The ``stats`` totals are carried over (they count each key's first record as it was
    written)."""
    by_shard: list[list[bytes]] = [[] for _ in range(256)]
    for key, cands in v.tail.items():
        k = key33(key)
        lst = by_shard[k[0]]
        for c in cands:
            lst.append(pack(k, c))
    segs = [SegInfo(s.name, s.end, s.final, s.retired) for s in v.segs]
    now = time.time()
    for no in comp.retire:
        segs[no].retired = now
    base_no = len(segs)
    segs.extend(comp.new_segs)
    moves = {where: (base_no + i, off) for where, (i, off) in comp.relocate.items()}
    rows = rows_from_json(rows_to_json(v.ckpt_rows))
    merge_rows(rows, v.tail_rows)
    bounds = [0]
    fences = bytearray()
    block = bytearray()
    count = keys = 0
    last = b""
    with open(path, "wb") as fh:
        fh.write(b"\0" * CKPT_HEAD.size)
        index_at = fh.tell()
        levels = v.levels() if base_name is None else ([v.ckpt] if v.base is not None and v.ckpt is not None else [])
        for shard in range(256):
            ents = []
            for level in levels:
                raw = level.shard_raw(shard)
                ents.extend(raw[i:i + ENT] for i in range(0, len(raw), ENT))
            ents.extend(by_shard[shard])
            ents.sort()
            for ent in ents:
                if moves or comp.drop:
                    seq, no, off, length = unpack(ent, 0)
                    if (no, off) in comp.drop:
                        continue
                    moved = moves.get((no, off))
                    if moved is not None:
                        ent = pack(ent[:33], (seq, moved[0], moved[1], length))
                if ent[:33] != last:
                    keys += 1
                    last = ent[:33]
                if not block:
                    fences.extend(ent[:33])
                block.extend(ent)
                count += 1
                if len(block) == BLOCK * ENT:
                    fences.extend(struct.pack("<I", zlib.crc32(block)))
                    fh.write(block)
                    block.clear()
            bounds.append(count)
        if block:
            fences.extend(struct.pack("<I", zlib.crc32(block)))
            fh.write(block)
        fences_at = fh.tell()
        fh.write(fences)
        if base_name is not None:  # a delta: its distinct keys may also be in the base
            base = v.base or v.ckpt
            assert base is not None
            keys, records = v.keys_count, base.n_entries + count
        else:
            records = count
        manifest = {"v": 1, "log": v.log_n, "gen": gen, "next_seq": v.next_seq, "keys": keys, "records": records,
                    "base": base_name, "bounds": bounds, "segments": [s.to_json() for s in segs],
                    "stats": rows_to_json(rows), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        body = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        man_at = fh.tell()
        fh.write(body)
        fh.write(struct.pack("<I", zlib.crc32(body)))
        fh.seek(0)
        fh.write(CKPT_HEAD.pack(CKPT_MAGIC, count, index_at, len(fences) // FENCE, fences_at, man_at, len(body)))
        fh.flush()
        os.fsync(fh.fileno())


