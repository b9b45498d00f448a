"""Length-prefixed JSON frames: how the host and a worker talk.

Both sides import this module: the worker as a module of its own package inside the
sandbox, the host as ``kodcode.executor.worker.frames``. It therefore imports nothing but
the standard library. A frame is a 4-byte big-endian length followed by that many bytes
of JSON. The worker's hello carries ``PROTOCOL``; the host refuses a worker whose number
differs from its own (``check_protocol``), so a stale worker folder in an image never
answers requests it reads differently.
"""

from __future__ import annotations

import json
import os
import struct

PROTOCOL = 2  # 2: the worker is a folder (``python -I <folder>``); bump on any change of a frame's shape
_HEAD = struct.Struct(">I")


def encode(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return _HEAD.pack(len(body)) + body


def split(buf: bytes) -> tuple[dict | None, bytes]:
    """The first whole frame in ``buf`` and what follows it, or (None, buf) while incomplete."""
    if len(buf) < _HEAD.size:
        return None, buf
    end = _HEAD.size + _HEAD.unpack_from(buf)[0]
    if len(buf) < end:
        return None, buf
    return json.loads(buf[_HEAD.size:end]), buf[end:]


def send(fd: int, obj: dict) -> None:
    view = memoryview(encode(obj))
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv(fd: int) -> dict | None:
    """The next frame on ``fd``; None when the other side closed it."""
    head = _read_exact(fd, _HEAD.size)
    if head is None:
        return None
    body = _read_exact(fd, _HEAD.unpack(head)[0])
    return None if body is None else json.loads(body)


def check_protocol(hello: dict, where: str) -> str | None:
    """None when the worker's hello speaks this protocol, else a one-line reason naming both."""
    theirs = hello.get("protocol")
    if theirs == PROTOCOL:
        return None
    return (f"{where} speaks worker protocol {theirs if theirs is not None else 'unknown'}, this host speaks "
            f"{PROTOCOL}: the worker folder it runs is from another version of kodcode; rebuild the image or "
            "let the engine mount the host's worker folder")
