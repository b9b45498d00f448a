"""Stable hashes: content keys, shard assignment and per-request seeds.

Everything here is a pure function of its arguments, so two runs with the same config
and inputs derive the same keys, shards and seeds on any machine.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the one spelling that gets hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(obj: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``obj``. A lone surrogate (text that is not
    valid Unicode, e.g. from a JSON escape) is hashed as it stands instead of failing; valid
    text hashes exactly as plain UTF-8."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8", "surrogatepass")).hexdigest()


def shard_of(record_id: str, n_shards: int) -> int:
    """Shard index of a record: crc32 of its id, so adding records moves no others."""
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, got {n_shards}")
    return zlib.crc32(record_id.encode("utf-8")) % n_shards


def derive_seed(global_seed: int, *parts: object) -> int:
    """A 31-bit sampling seed from the global seed and e.g. (stage, item id, attempt)."""
    digest = hashlib.sha256(canonical_json([global_seed, *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
