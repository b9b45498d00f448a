"""Light-RL (rule export_light_rl): a small RL set drawn from the verified questions, as the
KodCode authors made KodCode-Light-RL-10K.

1. Candidates: every KodCode-V1 row whose tests this project can run (``common.row_kind``:
   the instruct and complete styles run under pytest, a row with stdin/stdout cases under the
   stdio runner; a style it cannot run is left out and counted) and whose solution and tests
   import none of ``exports.light_rl.exclude_imports`` (libraries an RL sandbox usually lacks).
2. A fixed-seed shuffle of the candidates' *questions* (both styles of a question stay
   together, so no question is in both splits).
3. In that order, each row's reference solution is run against its tests again through the
   executor (verdicts come from the content-addressed store when Step 2 already ran the same
   attempt with the same limits and engine); a row that does not pass is dropped. Questions are
   taken while their rows fit in ``n``.
4. The first questions taken, up to ``test_size`` rows, are the test split; the rest train.
   When fewer than ``n`` rows qualify (a small release, a one-subset run), the test split
   shrinks in proportion (``test_size`` x selected / ``n``, at least one question), and the last
   question taken always trains.

Columns: KodCode-V1's without ``trials`` and ``chosen_trial`` (the Light-RL card's layout
without the R1 columns).
"""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from .common import ExportError, read_release, row_kind, runnable_tests, question_group, write_parquet

DROPPED_COLUMNS = ("trials", "chosen_trial")

# rows -> for each, whether its reference solution passes its tests
Checker = Callable[[Sequence[dict[str, Any]]], list[bool]]


@dataclass(frozen=True)
class LightRLConfig:
    n: int
    test_size: int
    seed: int
    exclude_imports: tuple[str, ...]

    @classmethod
    def from_params(cls, p: dict[str, Any]) -> "LightRLConfig":
        """From ``exports.light_rl`` as the config check filled it in, ``seed`` resolved."""
        return cls(n=int(p["n"]), test_size=int(p["test_size"]), seed=int(p["seed"]),
                   exclude_imports=tuple(p["exclude_imports"]))


@dataclass
class Selection:
    """Row indices of the input (ascending) per split, and what happened to the others."""

    train: list[int]
    test: list[int]
    summary: dict[str, Any] = field(default_factory=dict)


_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import|import[ \t]+([A-Za-z_][\w., \t]*))", re.M)


def imported_modules(code: str) -> set[str]:
    """The top-level package of every absolute import in ``code`` (``sklearn.linear_model`` ->
    ``sklearn``), anywhere in the file. Code that does not parse is scanned line by line."""
    names: set[str] = set()
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        for m in _IMPORT_LINE.finditer(code):
            if m.group(1):
                names.add(m.group(1))
            else:
                names.update(part.split(" as ")[0].strip() for part in m.group(2).split(","))
        return {n.split(".")[0] for n in names if n}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return {n.split(".")[0] for n in names}


def excluded_import(row: dict[str, Any], exclude: Iterable[str]) -> str | None:
    """The first (alphabetically) of ``exclude`` that the row's solution or tests import."""
    used = imported_modules(row.get("solution") or "") | imported_modules(row.get("test") or "")
    hits = sorted(used & set(exclude))
    return hits[0] if hits else None


def check_config(cfg: LightRLConfig) -> list[str]:
    """Config problems the schema cannot express, one line each (rules/exports.smk stops on
    them before any job)."""
    if cfg.n < 1:
        return [f"exports.light_rl.n is {cfg.n}; it must be at least 1"]
    if cfg.test_size >= cfg.n:
        return [f"exports.light_rl.test_size ({cfg.test_size}) must be below exports.light_rl.n ({cfg.n}) so train "
                "is not empty; lower test_size or raise n"]
    return []


def select(rows: Sequence[dict[str, Any]], cfg: LightRLConfig, check: Checker) -> Selection:
    """The Light-RL rows of ``rows`` (release rows in a fixed order). ``check`` re-runs reference
    solutions; it is called on batches of rows in the shuffled order, only as far as needed to
    fill ``cfg.n``, so a large release is not re-run in full."""
    problems = check_config(cfg)
    if problems:
        raise ExportError(problems[0])
    dropped: Counter[str] = Counter()
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        kind = row_kind(row)
        if kind is None:
            dropped[f"tests this version cannot run (style {row.get('style')})"] += 1
            continue
        module = excluded_import(row, cfg.exclude_imports)
        if module:
            dropped[f"imports {module}"] += 1
            continue
        groups.setdefault(question_group(row["question_id"]), []).append(i)
    order = sorted(groups)
    random.Random(cfg.seed).shuffle(order)

    accepted: list[list[int]] = []
    total = checked = 0
    pos = 0
    while total < cfg.n and pos < len(order):
        # the next questions, a little more than the rows still missing (some fail the re-run)
        want = int((cfg.n - total) * 1.25) + 8
        chunk, size = [], 0
        while pos < len(order) and size < want:
            chunk.append(order[pos])
            size += len(groups[order[pos]])
            pos += 1
        idx = [i for key in chunk for i in groups[key]]
        verdicts = dict(zip(idx, check([rows[i] for i in idx])))
        checked += len(idx)
        for key in chunk:
            passing = [i for i in groups[key] if verdicts[i]]
            if len(passing) < len(groups[key]):
                dropped["reference solution fails its tests on re-run"] += len(groups[key]) - len(passing)
            if passing and total + len(passing) <= cfg.n:
                accepted.append(passing)
                total += len(passing)
    if total == 0:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(dropped.items())) or "the release has no rows"
        raise ExportError(f"exports.light_rl: no row of the release qualifies ({why}); shorten "
                          "exports.light_rl.exclude_imports or check the release")
    # fewer rows than n (a small release, a one-subset run): the test split shrinks in proportion
    target = round(cfg.test_size * total / cfg.n)
    test: list[int] = []
    train: list[int] = []
    for k, g in enumerate(accepted):
        # the last question taken always trains: train is never empty; with test_size > 0 and two
        # questions or more, test gets at least one (`datasets` cannot load a parquet file of no rows)
        if k < len(accepted) - 1 and (len(test) + len(g) <= target or (not test and cfg.test_size > 0)):
            test += g
        else:
            train += g
    summary = {
        "rows_in": len(rows), "candidates": sum(len(g) for g in groups.values()), "questions": len(groups),
        "rechecked": checked, "dropped": dict(sorted(dropped.items())), "n": cfg.n, "test_size": cfg.test_size,
        "seed": cfg.seed, "selected": total, "train": len(train), "test": len(test),
        "short_of_n": max(0, cfg.n - total),
    }
    return Selection(train=sorted(train), test=sorted(test), summary=summary)


class ExecutorCheck:
    """A ``Checker`` that runs each row's reference solution through ``kodcode.executor`` with
    the ``executor`` config section (engine, limits, image, preload) and the verdict store."""

    def __init__(self, executor: dict[str, Any], store_root: str | None, workers: int = 1):
        self.executor, self.store_root, self.workers = executor, store_root, max(1, workers)
        self.counts: Counter[str] = Counter()

    def __call__(self, rows: Sequence[dict[str, Any]]) -> list[bool]:
        from ..executor import Attempt, Limits, run_attempts
        from ..executor.service import NAMESPACE
        from ..store import ContentStore

        attempts = []
        for r in rows:
            kind = row_kind(r)
            assert kind is not None  # select() keeps runnable rows only
            attempts.append(Attempt(f"{r['question_id']}#reference", r["solution"], runnable_tests(r["test"], kind),
                                    kind))
        if not attempts:
            return []
        ex = self.executor
        results, counts = run_attempts(
            attempts, limits=Limits(**ex.get("limits", {})), engine=ex.get("engine", "auto"),
            store=ContentStore(self.store_root, NAMESPACE) if self.store_root else None, workers=self.workers,
            image=ex.get("image"), preload=ex.get("preload"))
        self.counts.update(counts)
        self.counts.update(f"verdict {r.verdict}" for r in results)
        return [r.ok for r in results]


def export_light_rl(v1_files: Sequence[str], out_train: str, out_test: str, out_summary: str,
                    params: dict[str, Any], store_root: str | None, workers: int = 1,
                    check: Checker | None = None) -> Selection:
    """The rule's work: read the KodCode-V1 files, select, write train/test parquet and a JSON
    summary. ``params``: ``light_rl`` (n, test_size, seed, exclude_imports) and ``executor``."""
    from ..jsonl import write_json

    cfg = LightRLConfig.from_params(params["light_rl"])
    table = read_release(v1_files, "KodCode-V1")
    # the selection reads four columns; the heavy ones (trials, ...) stay in arrow memory
    rows = table.select(["question_id", "style", "solution", "test"]).to_pylist()
    checker = check or ExecutorCheck(params["executor"], store_root, workers)
    sel = select(rows, cfg, checker)
    keep = [c for c in table.column_names if c not in DROPPED_COLUMNS]
    out = table.select(keep)
    import pyarrow as pa

    # typed indices: an empty split is a table with no rows, not a type error
    write_parquet(out.take(pa.array(sel.train, type=pa.int64())), out_train)
    write_parquet(out.take(pa.array(sel.test, type=pa.int64())), out_test)
    summary = {**sel.summary, "executor": dict(sorted(getattr(checker, "counts", {}).items())),
               "columns": keep}
    write_json(out_summary, summary)
    print(f"Light-RL: {summary['train']} train, {summary['test']} test rows of {summary['candidates']} candidates"
          f" (dropped: {summary['dropped'] or 'none'})")
    return sel
