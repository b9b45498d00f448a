"""The one exception users see from seed acquisition and prompt building: a single line saying
what and where, and the wrapper that turns it into that line in a rule script."""

from __future__ import annotations

import contextlib


class InputError(Exception):
    """A problem with the user's input that the user can fix (a seed file with no valid seed,
    too few seeds for a prompt, ...). Its message is one line naming the file, line, folder or
    config key involved, and what to do."""

    def __str__(self) -> str:  # never let a multi-line message through
        return " ".join(super().__str__().split())


class SourceError(InputError):
    """A problem with a seed source (missing cache entry, bad revision, checksum mismatch, ...).

    Its message is one line naming the source, the revision and the file or key involved."""


def one_line_errors() -> contextlib.AbstractContextManager[None]:
    """Turn an :class:`InputError` into one line in the rule's log and on the console, and
    exit 1 (kodcode.snake.one_line_exit)."""
    from ..snake import one_line_exit

    return one_line_exit(InputError)
