"""Hugging Face dataset repos: a snapshot at a revision in the cache, read back with ``datasets``.

The loader only ever reads a local folder in the hub's layout (the cached snapshot, or a
``path:`` copy), so the code that reads the real source is the code the tests and the demo
run: ``datasets.load_dataset(folder, name=config, data_files=..., split=...)``.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from ..progress import log_tqdm
from .cache import sha256_file
from .errors import SourceError


def snapshot_files(folder: Path) -> list[dict[str, Any]]:
    """Path, size and sha256 of every file of a snapshot (hidden folders skipped), sorted."""
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append({"path": rel.as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p)})
    return out


def fetch_snapshot(repo: str, revision: str, allow_patterns: list[str], dest: Path, pinned: bool,
                   api: Any = None, download: Any = None) -> dict[str, Any]:
    """Download ``repo`` (a dataset) at ``revision`` into ``dest`` and verify it.

    The revision is resolved to a commit first and the snapshot taken at that commit; a pinned
    revision must resolve to itself. Every file the hub lists with an LFS sha256 is checked
    against it. ``api``/``download`` are injectable for tests (``HfApi()``, ``snapshot_download``)."""
    if api is None or download is None:
        from huggingface_hub import HfApi, snapshot_download

        api = api or HfApi()
        if download is None:  # the hub's own progress bars, at a pace that keeps the log short
            download = functools.partial(snapshot_download, tqdm_class=log_tqdm())
    info = api.dataset_info(repo, revision=revision, files_metadata=True)
    commit = info.sha
    if pinned and commit != revision:
        raise SourceError(f"hf {repo}@{revision}: the hub resolved it to {commit}")
    download(repo, repo_type="dataset", revision=commit, allow_patterns=allow_patterns or None, local_dir=str(dest))
    shutil.rmtree(dest / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping
    files = snapshot_files(dest)
    if not files:
        raise SourceError(f"hf {repo}@{revision}: no file matches allow_patterns {allow_patterns}")
    expected = {s.rfilename: s.lfs.sha256 for s in (info.siblings or []) if getattr(s, "lfs", None)}
    checked = 0
    for f in files:
        want = expected.get(f["path"])
        if want is None:
            continue
        if want != f["sha256"]:
            raise SourceError(f"hf {repo}@{commit}: {f['path']} has sha256 {f['sha256']}, the hub says {want}")
        checked += 1
    return {"resolved_revision": commit, "revision_checked": bool(pinned), "files": files,
            "lfs_sha256_checked": checked}


def _builder_for(data_files: Any) -> str | None:
    names = [data_files] if isinstance(data_files, str) else (
        [x for v in data_files.values() for x in ([v] if isinstance(v, str) else v)]
        if isinstance(data_files, dict) else list(data_files))
    exts = {os.path.splitext(n)[1] for n in names}
    for ext, builder in ((".jsonl", "json"), (".json", "json"), (".parquet", "parquet"), (".arrow", "arrow"),
                         (".csv", "csv")):
        if exts == {ext}:
            return builder
    return None


def load_split(folder: Path, config: str | None, split: str, data_files: Any, cache_dir: str | None,
               where: str) -> Any:
    """One split of a dataset stored in the hub's layout under ``folder``, as a ``datasets.Dataset``."""
    import datasets

    if not folder.is_dir():
        raise SourceError(f"{where}: {folder} is not a folder in the Hugging Face dataset layout")
    try:
        if data_files:
            files = ({k: _abs(folder, v) for k, v in data_files.items()} if isinstance(data_files, dict)
                     else {split: _abs(folder, data_files)})
            builder = _builder_for(data_files) or str(folder)
            return datasets.load_dataset(builder, data_files=files, split=split, cache_dir=cache_dir)
        return datasets.load_dataset(str(folder), name=config, split=split, cache_dir=cache_dir)
    except SourceError:
        raise
    except Exception as exc:  # datasets raises many kinds; the user needs one line
        msg = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SourceError(f"{where}: cannot read config {config or 'default'} split {split} from {folder}: {msg}") from None


def _abs(folder: Path, v: Any) -> Any:
    return str(folder / v) if isinstance(v, str) else [str(folder / x) for x in v]


def iter_rows(ds: Any, columns: list[str], where: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row index, {column: value})`` for the wanted columns only (the heavy ones stay on disk)."""
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise SourceError(f"{where}: no column {', '.join(missing)} in the dataset (columns: {', '.join(ds.column_names)})")
    yield from enumerate(ds.select_columns(columns))
