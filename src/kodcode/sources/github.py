"""GitHub trees: commit or tag tarballs from codeload, and reading a tree's files.

GitHub's archives carry the commit they were made from in the tar's pax header
(``comment``); that is how a fetched tarball is checked against a pinned commit, and how the
commit behind a tag is recorded.
"""

from __future__ import annotations

import fnmatch
import os
import tarfile
from pathlib import Path
from typing import Callable

from .cache import download
from .errors import SourceError

CODELOAD = "https://codeload.github.com/{repo}/tar.gz/{revision}"


def archive_url(repo: str, revision: str) -> str:
    return CODELOAD.format(repo=repo, revision=revision)


def archive_commit(tarball: Path) -> str | None:
    """The commit recorded in a GitHub (git archive) tarball, or None when it has none."""
    with tarfile.open(tarball) as tf:
        return (tf.pax_headers or {}).get("comment")


def check_commit(tarball: Path, repo: str, revision: str, pinned: bool, where: str) -> str | None:
    commit = archive_commit(tarball)
    if pinned and commit is not None and commit != revision:
        raise SourceError(f"{where}: {repo} archive is commit {commit}, not the pinned {revision}")
    return commit


def fetch_archive(repo: str, revision: str, dest: Path, sha256: str | None, pinned: bool,
                  opener=None) -> dict:
    """Download a tree tarball into ``dest`` (atomically) and return what was verified."""
    kw = {"opener": opener} if opener else {}
    digest = download(archive_url(repo, revision), dest, sha256, **kw)
    try:
        commit = check_commit(dest, repo, revision, pinned, archive_url(repo, revision))
    except Exception:
        dest.unlink(missing_ok=True)
        raise
    return {"sha256": digest, "sha256_checked": bool(sha256), "resolved_revision": commit,
            "revision_checked": bool(pinned and commit == revision)}


def _strip_root(names: list[str]) -> str:
    """The single top-level folder every member sits in (GitHub's ``repo-<sha>/``), or ''."""
    tops = {n.split("/", 1)[0] for n in names if n}
    if len(tops) == 1 and all("/" in n or n in tops for n in names):
        top = tops.pop()
        return top + "/" if any(n.startswith(top + "/") for n in names) else ""
    return ""


def read_tree(location: Path, want: Callable[[str], bool] = lambda path: True) -> list[tuple[str, bytes]]:
    """Regular files of a tree (tarball or folder) as ``(relative path, bytes)``, sorted by path;
    only paths ``want`` accepts are read (a docs tree need not hold all of pytorch in memory)."""
    out: list[tuple[str, bytes]] = []
    if location.is_dir():
        for root, dirs, files in os.walk(location):
            dirs[:] = [d for d in dirs if d != ".git"]
            for f in files:
                p = Path(root) / f
                rel = p.relative_to(location).as_posix()
                if p.is_file() and not p.is_symlink() and want(rel):
                    out.append((rel, p.read_bytes()))
    elif location.is_file():
        try:
            with tarfile.open(location) as tf:
                members = tf.getmembers()
                prefix = _strip_root([m.name.rstrip("/") for m in members])
                for m in members:
                    if m.isfile() and m.name.startswith(prefix) and want(m.name[len(prefix):]):
                        out.append((m.name[len(prefix):], tf.extractfile(m).read()))
        except tarfile.TarError as exc:
            raise SourceError(f"{location}: not a readable tarball ({exc})") from None
    else:
        raise SourceError(f"{location}: no such tree (a tarball or a folder)")
    return sorted(out)


def matches(path: str, patterns: list[str] | tuple[str, ...]) -> str | None:
    """The first pattern ``path`` matches, or None. A pattern without ``/`` is matched against
    the file name (any folder); one with ``/`` against the whole relative path (fnmatch)."""
    name = path.rsplit("/", 1)[-1]
    for pat in patterns:
        if fnmatch.fnmatchcase(path if "/" in pat else name, pat):
            return pat
    return None
