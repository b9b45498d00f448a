"""verl export (rule export_verl): the Light-RL splits as verl's RL parquet rows.

One row per Light-RL row, in the layout of verl's ``examples/data_preprocess`` scripts::

    data_source   exports.verl.data_source (default "kodcode")
    prompt        [{"role": "user", "content": question + exports.verl.instruction}]
    ability       "code"
    reward_model  {"style": "rule", "ground_truth": the row's tests (`test`)}
    extra_info    {"split", "index", "question_id", "subset", "style", "test_kind",
                   "gpt_difficulty", "gpt_pass_percentage"}

The reward function for these rows is ``kodcode.exports.reward.compute_score`` (a copy sits
beside the parquet files as ``kodcode_reward.py``), which runs ``ground_truth`` against the
completion's code with the executor, as ``extra_info.test_kind`` says.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

from .common import ExportError, read_release, row_kind

ABILITY = "code"


def _schema():
    import pyarrow as pa

    s = pa.string()
    return pa.schema([
        ("data_source", s),
        ("prompt", pa.list_(pa.struct([("role", s), ("content", s)]))),
        ("ability", s),
        ("reward_model", pa.struct([("style", s), ("ground_truth", s)])),
        ("extra_info", pa.struct([("split", s), ("index", pa.int64()), ("question_id", s), ("subset", s),
                                  ("style", s), ("test_kind", s), ("gpt_difficulty", s),
                                  ("gpt_pass_percentage", pa.float64())])),
    ])


def prompt_text(question: str, instruction: str) -> str:
    return f"{question.rstrip()}\n\n{instruction.strip()}" if instruction.strip() else question


def verl_rows(rows: Sequence[dict[str, Any]], split: str, data_source: str, instruction: str) -> list[dict[str, Any]]:
    """verl rows for one split of Light-RL rows (rows whose tests cannot run are an error:
    Light-RL never selects them)."""
    out = []
    for i, r in enumerate(rows):
        kind = row_kind(r)
        if kind is None:
            raise ExportError(f"{r['question_id']}: style {r.get('style')!r} has no runnable tests; "
                              "rebuild results/exports/light-rl (snakemake --forcerun export_light_rl)")
        out.append({
            "data_source": data_source,
            "prompt": [{"role": "user", "content": prompt_text(r["question"], instruction)}],
            "ability": ABILITY,
            "reward_model": {"style": "rule", "ground_truth": r["test"]},
            "extra_info": {"split": split, "index": i, "question_id": r["question_id"], "subset": r["subset"],
                           "style": r["style"], "test_kind": kind, "gpt_difficulty": r.get("gpt_difficulty"),
                           "gpt_pass_percentage": r.get("gpt_pass_percentage")},
        })
    return out


def write_verl(rows: list[dict[str, Any]], path: str) -> int:
    import pyarrow as pa

    from .common import write_parquet

    return write_parquet(pa.Table.from_pylist(rows, schema=_schema()), path)


def reward_module_path() -> Path:
    """The reward function's file in the installed package."""
    return Path(__file__).with_name("reward.py")


def export_verl(train_file: str, test_file: str, out_train: str, out_test: str, out_reward: str,
                params: dict[str, Any]) -> None:
    """The rule's work. ``params``: ``data_source`` and ``instruction`` (exports.verl)."""
    counts = {}
    for split, src, dst in (("train", train_file, out_train), ("test", test_file, out_test)):
        rows = read_release([src], "Light-RL").to_pylist()
        counts[split] = write_verl(verl_rows(rows, split, params["data_source"], params["instruction"]), dst)
    Path(out_reward).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(reward_module_path(), out_reward)
    print(f"verl: {counts['train']} train, {counts['test']} test rows; reward function {out_reward}")
