"""The one exception users see from decontamination: one line naming the benchmark or file."""

from __future__ import annotations

from ..sources.errors import SourceError


class DecontamError(SourceError):
    """A problem the user can fix (a missing package or file, a wrong column, a stale index).

    A SourceError, so the rule scripts' ``one_line_errors`` prints it as one line."""
