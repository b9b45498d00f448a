"""The one exception users see from seed acquisition: a single line saying what and where."""

from __future__ import annotations


class SourceError(Exception):
    """A problem the user can fix (missing cache entry, bad revision, checksum mismatch, ...).

    Its message is one line naming the source, the revision and the file or key involved."""

    def __str__(self) -> str:  # never let a multi-line message through
        return " ".join(super().__str__().split())
