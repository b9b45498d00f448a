"""The demo DAG end to end in a scratch copy of the workflow.

One sequence, because each step builds on the last: a one-subset run touches only that
subset; the full run (all twelve subsets) then leaves it alone and adds the others; the
release loads with `datasets`; a second run has nothing to do; replaying an exported store
in a fresh copy with nothing stored gives the same parquet bytes; an edited prompt template
reruns from its stage on, with unchanged requests and verdicts served from the stores. The
last two run on a few subsets that between them take every kind of question path
(seeds, snippets, documents, tagging), to keep the suite within its time budget.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.stages.release import SFT_COLUMNS, V1_COLUMNS
from kodcode.subsets import SUBSETS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO_SUBSETS = list(SUBSETS)  # the demo runs every subset
FEW = ["Prefill", "Docs", "Filter"]  # raw prefill prompts, chat prompts with markers, tagging
# the release files of FEW only: the paper figures and the card are covered by the full run
FEW_RELEASE = ["--"] + [f"results/release/{layout}/{s}.parquet" for s in FEW
                        for layout in ("KodCode-V1", "KodCode-V1-SFT-R1")]


def snakemake(wf: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=wf, text=True,
                          capture_output=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


def mtimes(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ["Snakefile", "rules", "scripts", "config", "demo", "profiles", "report", "envs"]:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wf(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("wf"))


@pytest.fixture(scope="module")
def runs(wf):
    # Package: a short chain (one question), so the rest of the demo runs in the full run, in parallel
    one = snakemake(wf, "--config", "subsets=[Package]")
    after_one = sorted(p.name for p in (wf / "results").iterdir())
    package_before = mtimes(wf / "results" / "Package")
    full = snakemake(wf)
    return {"one": one, "after_one": after_one, "package_before": package_before, "full": full}


def test_one_subset_run_touches_only_that_subset(wf, runs):
    assert runs["after_one"] == ["Package", "decontam", "exports", "paper", "release"]  # decontam: the shared benchmark index
    # the full run afterwards reran nothing of Package
    assert mtimes(wf / "results" / "Package") == runs["package_before"]


def test_release_loads_with_datasets(wf, runs):
    import datasets

    rel = wf / "results" / "release"
    for layout, columns in (("KodCode-V1", V1_COLUMNS), ("KodCode-V1-SFT-R1", SFT_COLUMNS)):
        for subset in DEMO_SUBSETS:
            ds = datasets.load_dataset("parquet", data_files=str(rel / layout / f"{subset}.parquet"), split="train")
            assert ds.column_names == columns
            assert len(ds) > 0
            assert set(ds["subset"]) == {subset}
            assert set(ds["style"]) <= {"instruct", "complete", "online_judge"}  # the last: V1 file only
        if layout == "KodCode-V1":
            row = ds[0]
            assert row["chosen_trial"] in row["trials"] and row["trials"][row["chosen_trial"]]["test_result"] == "Pass"
    card = (rel / "README.md").read_text()
    assert "Demo data" in card and "authored" in card
    for subset in DEMO_SUBSETS:
        assert f"| {subset} |" in card
    prov = json.loads((rel / "provenance.json").read_text())
    assert prov["store_keys"]["responses"] > 0 and prov["packages"]["snakemake"]


def test_dataflow_reports_the_deliberate_drops(wf, runs):
    lines = (wf / "results" / "release" / "dataflow.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = {r.split("\t")[0]: dict(zip(header, r.split("\t"))) for r in lines[1:]}
    assert set(rows) == set(DEMO_SUBSETS)
    assert "empty question: 1" in rows["Leetcode"]["seed_drops"]
    assert "near duplicate" in rows["Leetcode"]["dedup_drops"]
    assert "missing question markers" in rows["Algorithm"]["extract_drops"]
    assert sum(int(r["no_pass_drops"]) for r in rows.values()) >= 1
    assert any(r["unparseable"] != "0" for r in rows.values())
    for r in rows.values():
        assert int(r["verified"]) > 0 and int(r["llm_failures"]) == 0


def test_release_has_stdin_stdout_rows_verified_in_stdio_mode(wf, runs):
    """online_judge in the demo config: Leetcode's three questions are released in stdin/stdout
    form too, each from an attempt the executor passed in its stdin/stdout mode."""
    import pyarrow.parquet as pq

    rows = [r for r in pq.read_table(wf / "results/release/KodCode-V1/Leetcode.parquet").to_pylist()
            if r["style"] == "online_judge"]
    assert len(rows) == 3 and {r["version"] for r in rows} == {"v1.1"}
    verdicts = {v["attempt_id"]: v for v in map(json.loads, (wf / "results/Leetcode/online_judge/verdicts_000.jsonl")
                                                 .read_text().splitlines())}
    assert {v["kind"] for v in verdicts.values()} == {"stdio"}
    for row in rows:
        question = row["question_id"].removesuffix("_OJ") + "_I"
        chosen = verdicts[f"{question}#{row['chosen_trial'].rsplit('_', 1)[1]}"]
        cases = json.loads(row["test"])["cases"]
        assert chosen["verdict"] == "pass" and chosen["collected"] == chosen["passed"] == len(cases)
        assert row["gpt_pass_sequence"] == [int(verdicts[f"{question}#{k}"]["verdict"] == "pass") for k in range(3)]
    assert any(v["verdict"] == "fail" and "wrong output" in v["reason"] for v in verdicts.values())
    flow = (wf / "results" / "release" / "dataflow.tsv").read_text().splitlines()
    table = {r.split("\t")[0]: dict(zip(flow[0].split("\t"), r.split("\t"))) for r in flow[1:]}
    assert (table["Leetcode"]["oj_verified"], table["Filter"]["oj_no_pass_drops"]) == ("3", "1")
    assert "not an online-judge task: 1" in table["Codeforces"]["oj_tag_drops"]
    assert "## Stdin/stdout rows (online judge)" in (wf / "results" / "release" / "README.md").read_text()


def test_second_run_is_a_no_op(wf, runs):
    assert "Nothing to be done" in snakemake(wf)


def test_replay_of_exported_store_reproduces_release_byte_for_byte(wf, runs, tmp_path):
    rel = wf / "results" / "release"
    exported = tmp_path / "published_run.jsonl"
    subprocess.run([sys.executable, "-m", "kodcode.cli", "store", "export", "--root", str(wf / ".kodcode" / "store"),
                    str(exported)], check=True, capture_output=True)
    fresh = copy_workflow(tmp_path / "fresh")  # nothing stored: every response comes from the exported file
    llm = json.dumps({"backend": "replay", "replay_archives": [str(exported)]})
    snakemake(fresh, "--config", f"llm={llm}", f"subsets={json.dumps(FEW)}", *FEW_RELEASE)
    for subset in FEW:
        for layout in ("KodCode-V1", "KodCode-V1-SFT-R1"):
            path = Path("results/release") / layout / f"{subset}.parquet"
            assert (fresh / path).read_bytes() == (rel.parent.parent / path).read_bytes(), path


def test_edited_template_reruns_from_its_stage_with_store_hits(wf, runs):
    before = mtimes(wf / "results")
    prompts = wf / "my_prompts"
    prompts.mkdir()
    from kodcode.templates import load_template

    (prompts / "style_convert.txt").write_text(load_template("style_convert.txt") + "\nKeep the docstring short.\n")
    # replay has no answers for the new style prompts; the authored backend stands in for a model
    llm = json.dumps({"backend": "authored", "authored_responses": "demo/responses", "replay_archives": []})
    snakemake(wf, "--config", f"prompts_dir={prompts}", f"llm={llm}", f"subsets={json.dumps(FEW)}", *FEW_RELEASE)
    after = mtimes(wf / "results")
    changed = {k for k in before if after.get(k) != before[k]}
    assert not any("/questions/" in k or "/solutions/" in k or "/seeds" in k for k in changed), sorted(changed)
    assert {k.split("/")[0] for k in changed if "/style/requests_" in k} == set(FEW)
    for subset in FEW:
        for shard in sorted((wf / "results" / subset / "style").glob("responses_*.stats.json")):
            st = json.loads(shard.read_text())
            assert st["cache_hits"] == 0 and st["generated"] == st["requests"]
        for shard in sorted((wf / "results" / subset / "sft").glob("responses_*.stats.json")):
            st = json.loads(shard.read_text())
            # the rewritten style answers are the same, so every SFT request is already stored
            assert st["generated"] == 0 and st["cache_hits"] == st["requests"]
        for shard in sorted((wf / "results" / subset / "sft").glob("verdicts_*.stats.json")):
            st = json.loads(shard.read_text())
            # same answers against the same tests: every verdict comes from the verdict store
            assert st["executed"] == 0 and st["cached"] == st["attempts"]
