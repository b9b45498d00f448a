"""The download cache: atomic downloads, verified entries and manifests.

Layout of one entry (``cache_dir/<unit key>/``)::

    data/            the verified payload: archive.tar.gz (GitHub) or snapshot/ (Hugging Face),
                     plus verified.json (what was checked); created by one rename, so it is
                     either absent or complete
    manifest.json    the fetch_source rule's output, written (atomically) last

Temporary names carry ``.part-<pid>``: a half-finished download never has a final name, and
two jobs fetching the same unit (e.g. on a cluster sharing the cache) never write one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any, Callable

from ..progress import progress_bar
from .errors import SourceError

CHUNK = 1 << 20


def part_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.part-{os.getpid()}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, expected_sha256: str | None = None, timeout: float = 60.0,
             opener: Callable[..., Any] = urllib.request.urlopen) -> str:
    """Stream ``url`` into ``dest.part-<pid>``, hash it, check ``expected_sha256``, then rename.

    Returns the sha256. On any failure the part file is removed and ``dest`` is untouched."""
    tmp = part_name(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    try:
        with opener(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            size = _content_length(resp)  # GitHub's archives often have none: then no ETA
            bar = progress_bar(size, f"downloading {dest.name}", "B")
            for chunk in iter(lambda: resp.read(CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
            bar.close()
        digest = h.hexdigest()
        if expected_sha256 and digest != expected_sha256.lower():
            raise SourceError(f"{url}: sha256 {digest} does not match the configured {expected_sha256}")
        os.replace(tmp, dest)
        return digest
    finally:
        tmp.unlink(missing_ok=True)


def _content_length(resp: Any) -> int | None:
    try:
        return int((getattr(resp, "headers", None) or {}).get("Content-Length") or "") or None
    except (TypeError, ValueError):
        return None


def publish_dir(tmp: Path, final: Path) -> None:
    """Give a finished, verified folder its final name. If another job got there first, keep
    theirs (both were verified against the same revision) and drop ours."""
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def hub_snapshot(manifest: str | Path) -> tuple[Path, str | None]:
    """The snapshot folder of a cached Hugging Face unit and the commit it was taken at."""
    m = read_manifest(manifest)
    return Path(manifest).parent / m.get("data", "data") / "snapshot", m.get("resolved_revision")


def read_manifest(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{p}: unreadable cache manifest ({exc.__class__.__name__}); delete it to fetch again") from None
    data = p.parent / "data"
    if not data.is_dir():
        raise SourceError(f"{p}: the cached data beside this manifest is gone ({data}); delete the manifest to fetch again")
    return m
