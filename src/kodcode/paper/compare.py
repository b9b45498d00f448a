"""This run's release beside a published one: the numbers of Figs. 3, 5 and 16 (rows and share
per subset, difficulty bands, question/solution tokens, unit tests per question) computed the
same way from two KodCode-V1-layout parquet folders.

A folder is read as a whole: every ``*.parquet`` under it (recursively), rows grouped by the
``subset`` column. So it works on this workflow's release (one file per subset) and on the
hub's ``KodCode/KodCode-V1`` (``data/train-000NN-of-000NN.parquet``, all subsets mixed) alike.

Like Figs. 3 and 5, lengths count every row (both styles) and tests and difficulty count one
row per question, its ``instruct`` row; difficulty is the release's own ``gpt_difficulty``.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..sources.spec import REPO, FetchUnit
from .difficulty import BAND_COLORS
from .files import PaperInputError, write_summary, write_tsv
from .lengths import count_tests
from .plotting import ordered, render, title
from .tokens import TokenCounter

STEM = "compare"
COLUMNS = ("subset", "style", "question", "solution", "test", "gpt_difficulty")
BANDS = ("easy", "medium", "hard")
METRICS = ("rows", "share_pct", "questions", "easy_pct", "medium_pct", "hard_pct", "difficulty_unlabelled",
           "question_tokens_mean", "question_tokens_median", "solution_tokens_mean", "solution_tokens_median",
           "tests_mean", "tests_median")
SIDES = ("run", "published")
SIDE_COLORS = {"run": "#4d4d4d", "published": "#b3b3b3"}  # greys: the bands own the colours
BATCH_ROWS = 4096  # rows read (and tokenized) at a time: a full published release never sits in memory
# the hub release keeps a second split (use_with_caution-*) beside train-*; only train is fetched
HUB_PATTERNS = ("data/train-*.parquet",)
_HUB = re.compile(r"^hf:(?P<repo>[^@\s]+)@(?P<revision>\S+)$")


# ---------------------------------------------------------------------------- where it comes from


@dataclass(frozen=True)
class Published:
    """``paper.published``: a local folder, or a hub dataset fetched into the download cache."""

    text: str  # the config value, for messages and the summary
    folder: str | None = None
    unit: FetchUnit | None = None


def published_source(value: Any) -> Published | None:
    """Parse ``paper.published``: null, a folder, or ``hf:<owner>/<name>@<revision>``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PaperInputError(f"paper.published: give a folder or hf:<owner>/<name>@<revision> (got {value!r})")
    value = value.strip()
    if not value.startswith("hf:"):
        return Published(value, folder=value)
    m = _HUB.match(value)
    if not m or not REPO.match(m["repo"]):
        raise PaperInputError(f"paper.published: {value!r} is not hf:<owner>/<name>@<revision>, "
                              f"e.g. hf:KodCode/KodCode-V1@<commit>")
    unit = FetchUnit(kind="hf", repo=m["repo"], revision=m["revision"], origin="paper.published",
                     allow_patterns=HUB_PATTERNS)
    return Published(value, unit=unit)


def release_files(folder: str | Path) -> list[Path]:
    """Every ``*.parquet`` under ``folder`` (hidden folders skipped), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise PaperInputError(f"{folder}: no such folder (a KodCode-V1-layout parquet folder is expected)")
    files = sorted(p for p in root.rglob("*.parquet")
                   if p.is_file() and not any(x.startswith(".") for x in p.relative_to(root).parts))
    if not files:
        raise PaperInputError(f"{folder}: no .parquet file under it (a KodCode-V1-layout parquet folder is expected)")
    return files


def published_files(pub: Published | None) -> list[str]:
    """A local ``paper.published`` folder's parquet files (none for a hub unit or no comparison)."""
    if pub is None or pub.folder is None:
        return []
    try:
        return [str(f) for f in release_files(pub.folder)]
    except PaperInputError as exc:
        raise PaperInputError(f"paper.published: {exc}") from None


# ---------------------------------------------------------------------------- reading


@dataclass
class Tally:
    """One subset of one release, as read."""

    rows: int = 0
    question_tokens: list[int] = field(default_factory=list)  # every row
    solution_tokens: list[int] = field(default_factory=list)
    tests: list[int] = field(default_factory=list)  # one per question (instruct row)
    difficulty: Counter = field(default_factory=Counter)  # one per question; other labels under ""

    def add(self, other: "Tally") -> None:
        self.rows += other.rows
        self.question_tokens += other.question_tokens
        self.solution_tokens += other.solution_tokens
        self.tests += other.tests
        self.difficulty.update(other.difficulty)


def _batches(path: Path) -> Iterable[dict[str, list]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise PaperInputError(f"{path}: not a readable parquet file ({exc.__class__.__name__})") from None
    missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise PaperInputError(f"{path}: no column {', '.join(missing)} (not the KodCode-V1 layout)")
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=list(COLUMNS)):
        yield batch.to_pydict()


def read_release(files: Sequence[str | Path], counter: TokenCounter) -> dict[str, Tally]:
    """Tallies by the ``subset`` column over all ``files``."""
    out: dict[str, Tally] = {}
    for path in sorted(Path(f) for f in files):
        for cols in _batches(path):
            groups: dict[str, list[int]] = {}
            for i, s in enumerate(cols["subset"]):
                if not s:
                    raise PaperInputError(f"{path}: a row has no subset (the subset column is empty)")
                groups.setdefault(s, []).append(i)
            for s, idx in groups.items():
                t = out.setdefault(s, Tally())
                t.rows += len(idx)
                t.question_tokens += counter.count([cols["question"][i] or "" for i in idx])
                t.solution_tokens += counter.count([cols["solution"][i] or "" for i in idx])
                for i in idx:
                    if cols["style"][i] == "instruct":
                        t.tests.append(count_tests(cols["test"][i]))
                        label = cols["gpt_difficulty"][i]
                        t.difficulty[label if label in BANDS else ""] += 1
    return out


# ---------------------------------------------------------------------------- numbers


def _mean(values: Sequence[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: Sequence[int]) -> float | None:
    return statistics.median(values) if values else None


def metrics(t: Tally, total_rows: int) -> dict[str, Any]:
    n = len(t.tests)
    out: dict[str, Any] = {"rows": t.rows, "share_pct": round(100 * t.rows / total_rows, 2) if total_rows else 0.0,
                           "questions": n}
    out.update({f"{b}_pct": round(100 * t.difficulty[b] / n, 2) if n else None for b in BANDS})
    out["difficulty_unlabelled"] = t.difficulty[""]
    for key in ("question_tokens", "solution_tokens", "tests"):
        vals = getattr(t, key)
        out[f"{key}_mean"], out[f"{key}_median"] = _mean(vals), _median(vals)
    return out


def summarize(tallies: Mapping[str, Tally]) -> dict[str, dict[str, Any]]:
    """Metrics per subset (paper order) and for ``All``."""
    total = sum(t.rows for t in tallies.values())
    everything = Tally()
    out = {}
    for s in ordered(list(tallies)):
        out[s] = metrics(tallies[s], total)
        everything.add(tallies[s])
    out["All"] = metrics(everything, total)
    return out


def side_by_side(run: Mapping[str, Mapping[str, Any]],
                 published: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per subset and metric; a subset missing on one side has empty cells there."""
    subsets = ordered([s for s in {*run, *published} if s != "All"]) + ["All"]
    return [{"subset": s, "metric": m, "run": run.get(s, {}).get(m), "published": published.get(s, {}).get(m)}
            for s in subsets for m in METRICS]


# ---------------------------------------------------------------------------- figure


def _draw(run: Mapping[str, Mapping[str, Any]], published: Mapping[str, Mapping[str, Any]], demo: bool):
    subsets = ordered([s for s in {*run, *published} if s != "All"])
    sides = {"run": run, "published": published}

    def value(side: str, s: str, m: str) -> float:
        return float(sides[side].get(s, {}).get(m) or 0.0)

    def draw(fig) -> None:
        share, diff = fig.subplots(1, 2, sharey=True)
        y = np.arange(len(subsets))[::-1].astype(float)
        h = 0.38
        for k, side in enumerate(SIDES):
            yy = y + (h / 2 if k == 0 else -h / 2)
            share.barh(yy, [value(side, s, "share_pct") for s in subsets], height=h, color=SIDE_COLORS[side],
                       label=side)
            left = np.zeros(len(subsets))
            for b in BANDS:
                pct = np.array([value(side, s, f"{b}_pct") for s in subsets])
                diff.barh(yy, pct, left=left, height=h, color=BAND_COLORS[b], edgecolor="white", linewidth=0.4,
                          hatch="////" if side == "published" else None, label=b if k == 0 else None)
                left += pct
        share.set_yticks(y, subsets)
        share.set_xlabel("share of rows (%)")
        share.set_title("rows per subset")
        share.legend(fontsize=7, frameon=False, loc="lower right")
        diff.set_xlim(0, 100)
        diff.set_xlabel("share of questions (%)")
        diff.set_title("difficulty (gpt_difficulty): run above, published hatched")
        fig.legend(*diff.get_legend_handles_labels(), ncols=3, loc="outside lower right", fontsize=7, frameon=False)
        fig.suptitle(title("This run vs the published release", demo), fontsize=9)

    return draw


# ---------------------------------------------------------------------------- entry point


def _line(m: Mapping[str, Any]) -> str:
    bands = ", ".join(f"{b} {m[f'{b}_pct']}%" for b in BANDS) if m["questions"] else "no questions"
    return (f"{m['rows']} rows, {m['questions']} questions ({bands}), "
            f"{m['tests_mean']} tests per question, mean tokens question {m['question_tokens_mean']} "
            f"solution {m['solution_tokens_mean']}")


def make_compare(run_files: Sequence[str | Path], published_files: Sequence[str | Path], counter: TokenCounter,
                 stem: str, demo: bool, run_label: str, published_label: str,
                 published_revision: str | None = None) -> dict[str, Any]:
    """Write ``stem``.tsv/.png/.pdf/.json comparing two releases (each a list of parquet files)."""
    run = summarize(read_release(run_files, counter))
    pub = summarize(read_release(published_files, counter))
    rows = side_by_side(run, pub)
    write_tsv(f"{stem}.tsv", ["subset", "metric", *SIDES], rows)
    n = len({*run, *pub}) - 1
    render(_draw(run, pub, demo), (8.0, 1.2 + 0.32 * n), stem)
    notes = [f"{side} {s}: rows but no instruct-style row, so no tests or difficulty"
             for side, m in (("run", run), ("published", pub)) for s in m if m[s]["rows"] and not m[s]["questions"]]
    summary = {
        "item": "comparison with the published release", "demo": demo, "tokenizer": counter.name,
        "run_source": run_label, "published_source": published_label,
        "published_revision": published_revision, "published_files": len(published_files),
        "only_in_run": ordered([s for s in run if s not in pub]),
        "only_in_published": ordered([s for s in pub if s not in run]),
        "notes": notes, "rows": rows,
        "run": _line(run["All"]), "published": _line(pub["All"]),
    }
    write_summary(f"{stem}.json", summary)
    return summary
