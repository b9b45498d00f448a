"""SFT exports of the KodCode-V1-SFT-R1 conversations (rules export_llamafactory, export_trl).

* LLaMA-Factory: a JSON list of ``{"conversations": [{"from": "human"|"gpt", "value": ...}]}``
  (its ``sharegpt`` format) and a ``dataset_info.json`` with one entry, ``kodcode_sft_r1``, that
  names the file, ``"formatting": "sharegpt"``, the ``conversations`` column and the role tags.
  Train with ``dataset_dir: results/exports/llamafactory`` and ``dataset: kodcode_sft_r1``.
* TRL: JSON lines of ``{"messages": [{"role": "user"|"assistant", "content": ...}]}``, the
  conversational layout ``SFTTrainer`` reads (``load_dataset("json", data_files=...)``).

Rows: those ``sft_filter`` keeps, in release order (subset, then question id).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from .common import ExportError, read_release
from .sft_filter import SftFilter, apply, check_bounds

DATASET_NAME = "kodcode_sft_r1"
DATA_FILE = f"{DATASET_NAME}.json"

# the release's `from` values -> sharegpt's tags and chat roles
_SHAREGPT = {"system": "system", "user": "human", "human": "human", "assistant": "gpt", "gpt": "gpt"}
_ROLE = {"system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant"}


def dataset_info(file_name: str = DATA_FILE) -> dict[str, Any]:
    """LLaMA-Factory's description of the sharegpt file (its data/README.md)."""
    return {DATASET_NAME: {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "conversations"},
        "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "system_tag": "system"},
    }}


def _turns(row: dict[str, Any]) -> list[dict[str, str]]:
    turns = row.get("conversations") or []
    for t in turns:
        if t.get("from") not in _SHAREGPT:
            raise ExportError(f"{row.get('question_id')}: conversation turn from {t.get('from')!r}; expected user "
                              "or assistant: the SFT-R1 release file is not in this version's layout, rebuild it")
    body = [t for t in turns if t["from"] != "system"]
    roles = [_ROLE[t["from"]] for t in body]
    if not body or roles[-1] != "assistant" or any(r != ("user" if i % 2 == 0 else "assistant")
                                                   for i, r in enumerate(roles)):
        raise ExportError(f"{row.get('question_id')}: the conversation does not alternate user/assistant turns "
                          "ending with the assistant; rebuild the SFT-R1 release file")
    return turns


def sharegpt_example(row: dict[str, Any]) -> dict[str, Any]:
    return {"conversations": [{"from": _SHAREGPT[t["from"]], "value": t.get("value") or ""} for t in _turns(row)]}


def messages_example(row: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": _ROLE[t["from"]], "content": t.get("value") or ""} for t in _turns(row)]}


def _write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _selected(sft_files: Sequence[str], params: dict[str, Any]) -> tuple[list[dict[str, Any]], Counter[str], int]:
    f = SftFilter.from_params(params["sft_filter"])
    problems = check_bounds(f)
    if problems:
        raise ExportError(problems[0])
    rows = read_release(sft_files, "KodCode-V1-SFT-R1").to_pylist()
    kept, dropped = apply(rows, f)
    return kept, dropped, len(rows)


def _summary(path: str, rows_in: int, kept: int, dropped: Counter[str], params: dict[str, Any]) -> None:
    from ..jsonl import write_json

    write_json(path, {"rows_in": rows_in, "examples": kept, "dropped": dict(sorted(dropped.items())),
                      "sft_filter": params["sft_filter"]})


def export_llamafactory(sft_files: Sequence[str], out_data: str, out_info: str, out_summary: str,
                        params: dict[str, Any]) -> None:
    kept, dropped, n = _selected(sft_files, params)
    examples = [sharegpt_example(r) for r in kept]
    _write_text(out_data, json.dumps(examples, ensure_ascii=False, indent=1) + "\n")
    _write_text(out_info, json.dumps(dataset_info(Path(out_data).name), indent=2) + "\n")
    _summary(out_summary, n, len(examples), dropped, params)
    print(f"LLaMA-Factory: {len(examples)} sharegpt examples of {n} SFT-R1 rows (dropped: {dict(dropped) or 'none'})")


def export_trl(sft_files: Sequence[str], out_data: str, out_summary: str, params: dict[str, Any]) -> None:
    kept, dropped, n = _selected(sft_files, params)
    lines = [json.dumps(messages_example(r), ensure_ascii=False) for r in kept]
    _write_text(out_data, "".join(line + "\n" for line in lines))
    _summary(out_summary, n, len(lines), dropped, params)
    print(f"TRL: {len(lines)} messages examples of {n} SFT-R1 rows (dropped: {dict(dropped) or 'none'})")
