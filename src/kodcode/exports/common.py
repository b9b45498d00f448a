"""What every export shares: reading release files, a row's test kind, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["pytest", "stdio"]

# The two styles every verified question has (kodcode.stages.verify / style): their `test` is
# a pytest file that imports the solution as `solution` (kodcode.parse.executable_tests).
PYTEST_STYLES = ("instruct", "complete")


class ExportError(ValueError):
    """A problem the user can fix (a missing or unreadable release file, a config value that
    cannot be met): one line naming the file or key and what to do."""


def read_release(paths: Sequence[str | Path], what: str = "release") -> "pa.Table":
    """The rows of several release parquet files as one table, in the order given (a
    subset's rows are already sorted by question id). Columns another file lacks are null."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not paths:
        raise ExportError(f"no {what} parquet files to read: is `subsets` empty?")
    tables = []
    for p in paths:
        try:
            tables.append(pq.read_table(p))
        except FileNotFoundError:
            raise ExportError(f"{p}: missing; build the release first (snakemake results/release/README.md)") from None
        except (OSError, pa.ArrowException) as exc:
            raise ExportError(f"{p}: not a readable parquet file ({exc}); rebuild it "
                              f"(snakemake --forcerun release_subset)") from None
    return pa.concat_tables(tables, promote_options="default")


def row_kind(row: dict[str, Any]) -> Kind | None:
    """How a release row's `test` runs: ``pytest`` for the instruct and complete styles,
    ``stdio`` for a row whose `test` is the JSON of stdin/stdout cases (docs/executor.md), else
    None (a style this version does not know how to run: left out of the RL exports)."""
    if row.get("style") in PYTEST_STYLES:
        return "pytest"
    from ..executor.verdict import parse_stdio_cases

    try:
        parse_stdio_cases(row.get("test") or "")
    except ValueError:
        return None
    return "stdio"


def runnable_tests(test: str, kind: Kind) -> str:
    """The tests as the executor runs them: a pytest file gets the star import upstream
    prepends (so a verdict of Step 2 is found again in the verdict store); stdio cases as
    they are."""
    if kind == "pytest":
        from ..parse import executable_tests

        return executable_tests(test)
    return test


_STYLE_SUFFIX = re.compile(r"_[A-Z]+$")


def question_group(question_id: str) -> str:
    """The question a row belongs to: its id without the style suffix (``Leetcode_3_I``,
    ``Leetcode_3_C`` and the stdin/stdout restatement ``Leetcode_3_OJ`` are one question).
    Splits keep a group together, so no question is in both train and test."""
    return _STYLE_SUFFIX.sub("", question_id)


def write_parquet(table: "pa.Table", path: str | Path) -> int:
    """Write a table as the release does (zstd, no writer timestamps): same rows, same bytes."""
    import pyarrow.parquet as pq

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), compression="zstd")
    return table.num_rows
