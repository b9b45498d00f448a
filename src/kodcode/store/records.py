"""How one record is written down: the JSON text of the one-file-per-record layout (still read,
and what ``migrate`` packs), and the checksummed, compressed frames that segment files hold.

A frame is::

    fixed header (16 bytes, little-endian)
        magic b"KCr1" | key length in hex digits (u8) | flags (u8) | 0 (u16)
        | payload length (u32) | CRC-32 of the payload (u32)
    key: the hex key as bytes (half as many bytes as digits, rounded up)
    CRC-32 of the fixed header and the key (u32)
    payload: the record's sorted JSON, zlib-compressed when flags bit 0 is set

The header has its own checksum so that a reader can trust the payload length (and skip to
the next frame) before it has read the payload; the payload checksum tells a record cut short
by a crash or changed on disk from a good one. Keys are lowercase hex digests of 8 to 64
digits: the index keeps them in 33 fixed bytes (see ``key33``).
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any, NamedTuple

CHECKSUM_KEY = "_sha256"
_HEAD = '{"' + CHECKSUM_KEY + '": "'
_HEX = frozenset("0123456789abcdef")
MIN_KEY, MAX_KEY = 8, 64


class StoreError(Exception):
    """The store cannot be read or written (deleted, unmounted, full, read-only).

    Its message is one line naming the store and saying what to do."""

    def __str__(self) -> str:  # never let a multi-line message through
        return " ".join(super().__str__().split())


class DamagedRecord(ValueError):
    """A record that fails its checksum or does not parse."""


# ------------------------------------------------------------------ the one-file-per-record text


def encode_record(record: dict[str, Any]) -> bytes:
    """The file text of ``record`` in the one-file-per-record layout: its sorted JSON with a
    checksum of that JSON put first."""
    if CHECKSUM_KEY in record:
        raise ValueError(f"store records must not have a {CHECKSUM_KEY!r} key")
    body = json.dumps(record, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    rest = "}" if body == "{}" else ", " + body[1:]
    return (_HEAD + digest + '"' + rest).encode("utf-8")


def decode_record(data: bytes) -> dict[str, Any]:
    """The record stored in ``data``, exactly as it was put; raises DamagedRecord."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedRecord("not UTF-8 text") from None
    if text.startswith(_HEAD):
        start = len(_HEAD)
        digest, quote, rest = text[start:start + 64], text[start + 64:start + 65], text[start + 65:]
        if quote != '"' or not (rest == "}" or rest.startswith(", ")):
            raise DamagedRecord("damaged checksum header")
        body = "{}" if rest == "}" else "{" + rest[2:]
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            raise DamagedRecord("checksum does not match: cut short or changed after it was written")
    else:  # written before records carried a checksum: parsing is the only check
        body = text
    return _parse_object(body)


def has_checksum(data: bytes) -> bool:
    return data.startswith(_HEAD.encode())


def _parse_object(text: str | bytes) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise DamagedRecord(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise DamagedRecord(f"a JSON {type(record).__name__}, not an object")
    return record


# ------------------------------------------------------------------ keys


def check_key(key: str) -> str:
    if not (MIN_KEY <= len(key) <= MAX_KEY) or not _HEX.issuperset(key):
        raise ValueError(f"store keys are lowercase hex digests of {MIN_KEY} to {MAX_KEY} digits, got {key!r}")
    return key


def key_bytes(key: str) -> bytes:
    """The key's digits packed two to a byte (an odd last digit is padded with 0)."""
    return bytes.fromhex(key if len(key) % 2 == 0 else key + "0")


def key33(key: str) -> bytes:
    """The key as the index sorts it: packed digits padded to 32 bytes, then the digit count.
    Byte order of these equals the order of the hex strings."""
    return key_bytes(key).ljust(32, b"\0") + bytes((len(key),))


def key_from33(k33: bytes) -> str:
    return k33[:32].hex()[: k33[32]]


def shard_of(key: str) -> int:
    """The key-prefix shard (the key's first byte), which is also its legacy fan-out folder."""
    return int(key[:2], 16)


# ------------------------------------------------------------------ frames

FRAME_MAGIC = b"KCr1"
_FIXED = struct.Struct("<4sBBHII")
FIXED_SIZE = _FIXED.size  # 16
_CRC = struct.Struct("<I")
FLAG_ZLIB = 1
MAX_FRAME = 1 << 30  # a header claiming more is garbage, not a record


class Frame(NamedTuple):
    key: str
    flags: int
    payload_len: int
    payload_crc: int
    header_len: int

    @property
    def length(self) -> int:
        return self.header_len + self.payload_len


def record_body(record: dict[str, Any]) -> bytes:
    """The record's sorted JSON: what is compressed into a frame and what ``get`` parses."""
    if CHECKSUM_KEY in record:  # kept so that packed and one-file records stay interchangeable
        raise ValueError(f"store records must not have a {CHECKSUM_KEY!r} key")
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def encode_frame(key: str, body: bytes, level: int) -> bytes:
    payload, flags = zlib.compress(body, level), FLAG_ZLIB
    if len(payload) >= len(body):
        payload, flags = body, 0
    kb = key_bytes(key)
    fixed = _FIXED.pack(FRAME_MAGIC, len(key), flags, 0, len(payload), zlib.crc32(payload))
    return fixed + kb + _CRC.pack(zlib.crc32(kb, zlib.crc32(fixed))) + payload


OK, SHORT, BAD = "ok", "short", "bad"


def parse_header(buf: bytes | memoryview, pos: int = 0) -> tuple[str, Frame | None]:
    """(OK, frame) for a valid frame header at ``buf[pos:]``; (SHORT, None) when ``buf`` ends
    before the header does (possibly a frame still being written); (BAD, None) for bytes that
    are not a frame header."""
    if len(buf) - pos < FIXED_SIZE:
        return (SHORT if bytes(buf[pos:pos + 4]) == FRAME_MAGIC[:max(0, len(buf) - pos)] else BAD), None
    magic, nibbles, flags, zero, plen, pcrc = _FIXED.unpack_from(buf, pos)
    if magic != FRAME_MAGIC or not (MIN_KEY <= nibbles <= MAX_KEY) or zero or plen > MAX_FRAME or flags > 1:
        return BAD, None
    kb = (nibbles + 1) // 2
    end = pos + FIXED_SIZE + kb + 4
    if len(buf) < end:
        return SHORT, None
    fixed_and_key = bytes(buf[pos:pos + FIXED_SIZE + kb])
    if zlib.crc32(fixed_and_key) != _CRC.unpack_from(buf, end - 4)[0]:
        return BAD, None
    key = fixed_and_key[FIXED_SIZE:].hex()[:nibbles]
    return OK, Frame(key, flags, plen, pcrc, FIXED_SIZE + kb + 4)


def frame_payload_ok(frame: Frame, payload: bytes | memoryview) -> bool:
    return len(payload) == frame.payload_len and zlib.crc32(payload) == frame.payload_crc


def payload_body(frame: Frame, payload: bytes | memoryview) -> bytes:
    """The record's JSON text from a frame's payload, checked; raises DamagedRecord."""
    if len(payload) != frame.payload_len:
        raise DamagedRecord("cut short")
    if zlib.crc32(payload) != frame.payload_crc:
        raise DamagedRecord("checksum does not match: cut short or changed after it was written")
    try:
        return zlib.decompress(payload) if frame.flags & FLAG_ZLIB else bytes(payload)
    except zlib.error as exc:
        raise DamagedRecord(f"does not decompress ({exc})") from None


def decode_payload(frame: Frame, payload: bytes | memoryview) -> dict[str, Any]:
    """The record in a frame's payload, exactly as it was put; raises DamagedRecord."""
    return _parse_object(payload_body(frame, payload))


def frame_body(data: bytes, key: str | None = None) -> bytes:
    """The record's JSON text in one whole frame (header and payload), checked; raises
    DamagedRecord, also when the frame holds another key than ``key``."""
    status, frame = parse_header(data)
    if frame is None:
        raise DamagedRecord("cut short" if status == SHORT else "damaged frame header")
    if key is not None and frame.key != key:
        raise DamagedRecord(f"holds key {frame.key}, not {key}")
    return payload_body(frame, memoryview(data)[frame.header_len:frame.length])


def decode_frame(data: bytes, key: str | None = None) -> dict[str, Any]:
    """The record in one whole frame, exactly as it was put; raises DamagedRecord."""
    return _parse_object(frame_body(data, key))


# ------------------------------------------------------------------ what stats counts


def record_meta(record: dict[str, Any]) -> list[Any]:
    """What ``stats`` adds up for one record: [group, prompt tokens, completion tokens, model,
    received_at]. Worked out when the record is written, so that stats never reads records."""
    resp = record.get("response")
    resp = resp if isinstance(resp, dict) else {}
    usage = resp.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    req = record.get("request")
    model = (req.get("model") if isinstance(req, dict) else None) or resp.get("model")
    return [str(record.get("stage") or "-"), _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")),
            str(model) if model else None, record.get("received_at") or None]


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def new_row() -> dict[str, Any]:
    return {"records": 0, "prompt_tokens": 0, "completion_tokens": 0, "models": set(), "first": None, "last": None}


def add_meta(rows: dict[str, dict[str, Any]], meta: list[Any]) -> None:
    group, pt, ct, model, ts = meta
    row = rows.get(group)
    if row is None:
        row = rows[group] = new_row()
    row["records"] += 1
    row["prompt_tokens"] += pt
    row["completion_tokens"] += ct
    if model:
        row["models"].add(model)
    if ts:
        ts = str(ts)
        row["first"] = ts if row["first"] is None else min(row["first"], ts)
        row["last"] = ts if row["last"] is None else max(row["last"], ts)


def merge_rows(into: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> None:
    for group, r in rows.items():
        row = into.get(group)
        if row is None:
            row = into[group] = new_row()
        row["records"] += r["records"]
        row["prompt_tokens"] += r["prompt_tokens"]
        row["completion_tokens"] += r["completion_tokens"]
        row["models"].update(r["models"])
        for end, pick in (("first", min), ("last", max)):
            if r[end] is not None:
                row[end] = r[end] if row[end] is None else pick(row[end], r[end])


def rows_to_json(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {**v, "models": sorted(v["models"])} for k, v in sorted(rows.items())}


def rows_from_json(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {**v, "models": set(v["models"])} for k, v in data.items()}
