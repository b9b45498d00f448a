"""Seed acquisition: harvesting the GitHub trees, reading Hugging Face copies in the hub's
layout with the real loader, conversion rules, and config handling (no network anywhere)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from kodcode.jsonl import read_jsonl
from kodcode.sources import SourceError
from kodcode.sources.build import build_seeds, harvest
from kodcode.sources.convert import leetcode_statement, notebook_text, split_document
from kodcode.sources.github import read_tree
from kodcode.sources.spec import FetchUnit, configured_source, seed_inputs, seed_plan, subset_source

from conftest import SHARED

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_TREES = {
    "Algorithm": ("TheAlgorithms/Python", "a19bede190ddb4fa3c1c9850b612a47fc69d6709",
                  "TheAlgorithms-Python-a19bede190ddb4fa3c1c9850b612a47fc69d6709-py-only.tar.gz", "algorithm-python.json"),
    "Data_Structure": ("keon/algorithms", "cad4754bc71742c2d6fcbd3b92ae74834d359844",
                       "keon-algorithms-cad4754bc71742c2d6fcbd3b92ae74834d359844.tar.gz", "data-structure-python.json"),
}


def _harvest(subset, raw, seed=1, cache=None):
    src = subset_source(subset, raw)
    return harvest(src, [None] * len(src.parts), seed, str(cache) if cache else None)


# ------------------------------------------------------------------ GitHub trees vs upstream


@pytest.mark.parametrize("subset", sorted(FIXTURE_TREES))
def test_github_fixture_tree_reproduces_upstream_seed_file(subset):
    repo, rev, tarball, upstream_file = FIXTURE_TREES[subset]
    tree = SHARED / "seed_sources" / tarball
    if not tree.exists():
        pytest.skip("../shared/fixtures/seed_sources is absent (a fresh clone has no ../shared)")
    seeds, report, info = _harvest(subset, {"kind": "github", "repo": repo, "revision": rev, "path": str(tree)})
    upstream = json.loads((SHARED / "upstream_seeds" / upstream_file).read_text())
    key = lambda r: (r["category"], r["file_name"], r["codes"])  # noqa: E731
    assert Counter(map(key, seeds)) == Counter(map(key, upstream))  # same multiset, byte for byte
    assert report.kept == len(upstream) == report.read - sum(report.dropped.values())
    # ids: 0..N-1 in sorted path order of the kept files
    assert sorted(int(s["id"]) for s in seeds) == list(range(len(upstream)))
    by_id = {int(s["id"]): s for s in seeds}
    first_kept = next(p for p, _ in read_tree(tree) if p.endswith(".py") and not p.endswith("__init__.py")
                      and not p.rsplit("/", 1)[-1].startswith("test_") and p not in ("setup.py", "docs/source/conf.py"))
    assert by_id[0]["file_name"] == first_kept.rsplit("/", 1)[-1][:-3]
    # keon's archive records its commit; the py-only repack of TheAlgorithms does not
    assert info[0]["resolved_revision"] in (None, rev)


def test_pinned_commit_mismatch_in_a_local_tarball_is_refused(tmp_path):
    tree = SHARED / "seed_sources" / FIXTURE_TREES["Data_Structure"][2]
    if not tree.exists():
        pytest.skip("../shared/fixtures/seed_sources is absent (a fresh clone has no ../shared)")
    with pytest.raises(SourceError, match="not the pinned"):
        _harvest("Data_Structure", {"kind": "github", "repo": "keon/algorithms", "revision": "0" * 40, "path": str(tree)})


# ------------------------------------------------------------------ Hugging Face copies in the hub's layout


def _parquet(path, rows):
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows).to_parquet(str(path))


def _readme(path, configs):
    body = "".join(f"- config_name: {n}\n  data_files:\n" + "".join(f"  - split: {s}\n    path: {p}\n" for s, p in fs)
                   for n, fs in configs)
    path.write_text(f"---\nconfigs:\n{body}---\n")


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def make_leetcode(d):  # greengerong/leetcode: leetcode-train.jsonl, a 21-byte README
    _jsonl(d / "leetcode-train.jsonl", [
        {"id": 7, "slug": "x", "title": "X", "difficulty": "Easy", "content": "Reverse `s`.\n\n**Example 1:**\n\n**Input:** s = 1",
         "java": "", "c++": "", "python": "", "javascript": ""},
        {"id": 3, "slug": "y", "title": "Y", "difficulty": "Hard", "content": "Sum the list.\n\n**Constraints:**\n\n* n <= 5",
         "java": "", "c++": "", "python": "", "javascript": ""}])
    (d / "README.md").write_text("---\nlicense: mit\n---\n")
    return {}, [("3", "Sum the list."), ("7", "Reverse `s`.")]


def make_codeforces(d):  # open-r1/codeforces: data/train-*.parquet, README configs
    _parquet(d / "data" / "train-00000-of-00001.parquet", [
        {"id": "1/A", "title": "A", "description": "Cover the square.", "input_format": "n m a", "output_format": "k",
         "examples": [{"input": "6 6 4", "output": "4"}], "rating": 1000, "tags": ["math"]},
        {"id": "1/B", "title": "B", "description": None, "input_format": None, "output_format": None,
         "examples": [], "rating": None, "tags": []}])
    _parquet(d / "data" / "test-00000-of-00001.parquet", [
        {"id": "9/Z", "title": "Z", "description": "test split", "input_format": "", "output_format": "",
         "examples": [], "rating": 1, "tags": []}])
    _readme(d / "README.md", [("default", [("train", "data/train-*"), ("test", "data/test-*")])])
    return {}, [("1/A", "Cover the square.")]


def make_apps(d):  # codeparrot/apps: train.jsonl + test.jsonl + a loading script at the root
    _jsonl(d / "train.jsonl", [{"problem_id": 12, "question": "Print the sum.", "solutions": "[]", "input_output": "{}",
                                "difficulty": "interview", "url": "u", "starter_code": ""}])
    _jsonl(d / "test.jsonl", [{"problem_id": 4000, "question": "test", "solutions": "[]", "input_output": "{}",
                               "difficulty": "interview", "url": "u", "starter_code": ""}])
    (d / "apps.py").write_text("raise RuntimeError('a loading script must never run')\n")
    return {"data_files": {"train": "train.jsonl"}}, [("12", "Print the sum.")]


def make_taco(d):  # BAAI/TACO: train/ and test/ hold arrow files written by save_to_disk
    import datasets

    for split, q in (("train", "Count the islands."), ("test", "test")):
        datasets.Dataset.from_list([{"question": q, "solutions": "[]", "difficulty": "EASY"}]).save_to_disk(str(d / split))
    return {"data_files": {"train": "train/*.arrow"}}, [("0", "Count the islands.")]


def make_code_contests(d):  # deepmind/code_contests: data/train-*-<hash>.parquet
    _parquet(d / "data" / "train-00000-of-00001-deadbeef.parquet", [
        {"name": "a", "description": "Find the max.", "source": 2, "difficulty": 7,
         "public_tests": {"input": ["1"], "output": ["1"]}},
        {"name": "b", "description": "Sort it.", "source": 2, "difficulty": 7,
         "public_tests": {"input": ["1"], "output": ["1"]}}])
    _readme(d / "README.md", [("default", [("train", "data/train-*")])])
    return {}, [("0", "Find the max."), ("1", "Sort it.")]


def make_opc(d, config):  # OpenCoder-LLM/opc-sft-stage2: one folder per config
    for c in ("package_instruct", "evol_instruct"):
        _parquet(d / c / "train-00000-of-00001.parquet",
                 [{"instruction": f"{c} task {i}", "output": "...", "tag": c} for i in range(5)])
    _readme(d / "README.md", [(c, [("train", f"{c}/train-*")]) for c in ("package_instruct", "evol_instruct")])
    return {"config": config, "sample": 2}, None


def make_magpie(d):  # Magpie-Align/Magpie-*: data/train-*.parquet
    _parquet(d / "data" / "train-00000-of-00001.parquet", [
        {"uuid": "u1", "instruction": "Write a Python function to add.", "response": "...", "task_category": "Coding & Debugging"},
        {"uuid": "u2", "instruction": "Plan a trip.", "response": "...", "task_category": "Planning"}])
    _readme(d / "README.md", [("default", [("train", "data/train-*")])])
    return {}, [("m/u1", "Write a Python function to add.")]


HF_CASES = {
    "Leetcode": ("greengerong/leetcode", make_leetcode),
    "Codeforces": ("open-r1/codeforces", make_codeforces),
    "Apps": ("codeparrot/apps", make_apps),
    "Taco": ("BAAI/TACO", make_taco),
    "Code_Contests": ("deepmind/code_contests", make_code_contests),
    "Package": ("OpenCoder-LLM/opc-sft-stage2", lambda d: make_opc(d, "package_instruct")),
    "Evol": ("OpenCoder-LLM/opc-sft-stage2", lambda d: make_opc(d, "evol_instruct")),
}


@pytest.mark.parametrize("subset", sorted(HF_CASES))
def test_hf_loader_reads_a_copy_in_the_hub_layout(tmp_path, subset):
    repo, make = HF_CASES[subset]
    copy = tmp_path / repo.split("/")[1]
    copy.mkdir()
    extra, expected = make(copy)
    raw = {"kind": "hf", "repo": repo, "revision": "main", "path": str(copy), **extra}
    seeds, report, info = _harvest(subset, raw, cache=tmp_path / "hf")
    assert info[0]["verified"] == "local copy (not fetched)"
    if expected is None:  # sampled: 2 of the config's 5 rows, deterministic, ids = source row index
        again, _, _ = _harvest(subset, raw, cache=tmp_path / "hf")
        assert seeds == again and len(seeds) == 2
        cfg = extra["config"]
        assert all(s["question"] == f"{cfg} task {s['id']}" for s in seeds)
        assert report.dropped == {"not in the 2-row sample": 3}
    else:
        assert [(s["id"], s["question"]) for s in seeds] == expected
    assert report.read == report.kept + sum(report.dropped.values())


def test_filter_keeps_python_rows_from_every_magpie_set(tmp_path):
    parts = []
    for name in ("m", "n"):
        make_magpie(tmp_path / name)
        parts.append({"name": name, "repo": f"Magpie-Align/{name}", "revision": "main", "path": str(tmp_path / name)})
    seeds, report, _ = _harvest("Filter", {"kind": "hf", "datasets": parts}, cache=tmp_path / "hf")
    assert [(s["id"], s["question"]) for s in seeds] == [("m/u1", "Write a Python function to add."),
                                                         ("n/u1", "Write a Python function to add.")]
    assert report.dropped == {"not Python-related": 2}


def test_wrong_field_name_is_one_line_naming_source_and_columns(tmp_path):
    make_code_contests(tmp_path)
    with pytest.raises(SourceError) as err:
        _harvest("Code_Contests", {"kind": "hf", "repo": "deepmind/code_contests", "revision": "main",
                                   "path": str(tmp_path), "field": "statement"}, cache=tmp_path / "hf")
    msg = str(err.value)
    assert "\n" not in msg and "sources.Code_Contests" in msg and "statement" in msg and "description" in msg


def test_sampling_depends_on_seed_and_subset(tmp_path):
    make_opc(tmp_path, "package_instruct")
    raw = {"kind": "hf", "repo": "OpenCoder-LLM/opc-sft-stage2", "revision": "main", "path": str(tmp_path),
           "config": "package_instruct", "sample": 3}
    picks = {seed: [s["id"] for s in _harvest("Package", raw, seed=seed, cache=tmp_path / "hf")[0]] for seed in range(6)}
    assert len({tuple(v) for v in picks.values()}) > 1  # the run's seed changes the sample
    assert picks[0] == [s["id"] for s in _harvest("Package", raw, seed=0, cache=tmp_path / "hf")[0]]


# ------------------------------------------------------------------ conversion rules


def test_leetcode_statement_cuts_examples_constraints_and_follow_up():
    text = ("Return the answer.\n\nNote that `k` may be zero.\n\n**Example 1:**\n\n**Input:** a\n\n"
            "**Constraints:**\n\n* x\n\n**Follow-up:** faster?")
    assert leetcode_statement(text) == "Return the answer.\n\nNote that `k` may be zero."
    assert leetcode_statement("**Constraints:**\n* none") == ""
    assert leetcode_statement("No markers at all.  ") == "No markers at all."


def test_documents_split_between_paragraphs_within_the_limit():
    paras = [f"Paragraph {i} " + "word " * 30 for i in range(10)]
    pieces = split_document("\n\n".join(paras), 400)
    assert all(len(p) <= 400 for p in pieces) and len(pieces) > 1
    assert "\n\n".join(pieces).split() == "\n\n".join(paras).split()  # nothing lost, order kept
    assert split_document("short", 400) == ["short"]


def test_notebook_cells_become_text_with_fenced_code():
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Title\n", "Intro."]},
                    {"cell_type": "code", "source": "x = 1"}, {"cell_type": "code", "source": []}]}
    assert notebook_text(json.dumps(nb)) == "# Title\nIntro.\n\n```python\nx = 1\n```"


def test_docs_harvest_reads_only_the_docs_folders(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "src").mkdir()
    paras = [f"Paragraph {i} explains one more thing about the package in plain words here." for i in range(6)]
    (tmp_path / "docs" / "guide.rst").write_text("Guide\n=====\n\n" + "\n\n".join(paras) + "\n")
    (tmp_path / "docs" / "tiny.txt").write_text("tiny")
    (tmp_path / "docs" / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "src" / "notes.rst").write_text("not documentation " * 30)
    raw = {"kind": "docs", "packages": [{"name": "pkg", "repo": "o/pkg", "revision": "v1", "docs_dir": "docs",
                                         "path": str(tmp_path)}], "max_chars": 200, "min_chars": 50}
    seeds, report, _ = _harvest("Docs", raw)
    assert [s["id"] for s in seeds] == ["pkg/docs/guide.rst#001", "pkg/docs/guide.rst#002", "pkg/docs/guide.rst#003"]
    assert seeds[0]["doc"].startswith("Guide\n=====\n\nParagraph 0")
    assert {s["source_name"] for s in seeds} == {"pkg"} and all(len(s["doc"]) <= 200 for s in seeds)
    assert " ".join(s["doc"] for s in seeds).split() == ("Guide ===== " + " ".join(paras)).split()
    assert report.dropped == {"shorter than 50 characters": 1}


# ------------------------------------------------------------------ config and the rules' plan


def test_prepared_seed_file_overrides_the_source(tmp_path):
    cfg = {"seed": 1, "seeds": {"Leetcode": "my.jsonl"},
           "sources": {"Leetcode": {"kind": "hf", "repo": "greengerong/leetcode", "revision": "main"}}}
    assert configured_source(cfg, "Leetcode") is None
    assert seed_inputs(cfg, "Leetcode") == ["my.jsonl"] and seed_plan(cfg, "Leetcode")["file"] == "my.jsonl"


def test_cache_sources_need_a_manifest_and_local_copies_list_their_files(tmp_path):
    make_leetcode(tmp_path)
    cfg = {"seed": 1, "cache_dir": "/shared/cache", "sources": {
        "Leetcode": {"kind": "hf", "repo": "greengerong/leetcode", "revision": "main", "path": str(tmp_path)},
        "Algorithm": {"kind": "github", "repo": "TheAlgorithms/Python", "revision": "a" * 40}}}
    assert seed_inputs(cfg, "Leetcode") == [str(tmp_path / "README.md"), str(tmp_path / "leetcode-train.jsonl")]
    assert seed_inputs(cfg, "Algorithm") == [f"/shared/cache/github/TheAlgorithms/Python/{'a' * 40}/manifest.json"]


@pytest.mark.parametrize("raw, key", [
    (None, "sources.Taco"),
    ({"kind": "github", "repo": "BAAI/TACO", "revision": "main"}, "sources.Taco.kind"),
    ({"kind": "hf", "repo": "TACO", "revision": "main"}, "sources.Taco.repo"),
    ({"kind": "hf", "repo": "BAAI/TACO", "revision": " "}, "sources.Taco.revision"),
    ({"kind": "hf", "repo": "BAAI/TACO", "revision": "main", "sha256": "0" * 64}, "sources.Taco.sha256"),
])
def test_bad_source_config_is_one_line_naming_the_key(raw, key):
    cfg = {"seed": 1, "sources": {"Taco": raw} if raw else {}}
    with pytest.raises(SourceError) as err:
        configured_source(cfg, "Taco")
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_docs_packages_need_name_and_docs_dir():
    with pytest.raises(SourceError, match=r"^sources.Docs.packages\[0\].docs_dir"):
        subset_source("Docs", {"kind": "docs", "packages": [{"name": "x", "repo": "o/x", "revision": "v1"}]})


def test_schema_names_a_misspelt_source_key():
    import yaml
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["sources"]["Leetcode"]["revison"] = "main"
    with pytest.raises(WorkflowError, match="revison"):
        validate(cfg, schema=str(ROOT / "config" / "schema.yaml"))


def test_cache_keys_separate_revisions_and_file_selections():
    u = lambda **kw: FetchUnit(kind="hf", repo="o/d", revision=kw.pop("rev", "main"), origin="s", **kw)  # noqa: E731
    assert u().key == "hf/o/d/main/all"
    assert u(allow_patterns=("a/*",)).key != u(allow_patterns=("b/*",)).key
    assert u(rev="refs/convert/parquet").key == "hf/o/d/refs%2Fconvert%2Fparquet/all"
    assert FetchUnit(kind="github", repo="o/r", revision="v1", origin="s").key == "github/o/r/v1"


def test_build_seeds_writes_seeds_and_stats(tmp_path):
    make_leetcode(tmp_path / "copy")
    cfg = {"seed": 1, "cache_dir": str(tmp_path / "cache"),
           "sources": {"Leetcode": {"kind": "hf", "repo": "greengerong/leetcode", "revision": "main",
                                    "path": str(tmp_path / "copy")}}}
    build_seeds(seed_plan(cfg, "Leetcode"), str(tmp_path / "seeds.jsonl"), str(tmp_path / "stats.json"))
    assert read_jsonl(tmp_path / "seeds.jsonl") == [{"id": "3", "question": "Sum the list."},
                                                    {"id": "7", "question": "Reverse `s`."}]
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["read"] == 2 and stats["kept"] == 2 and stats["dropped"] == {}
    assert stats["sources"][0]["source"] == "hf greengerong/leetcode@main"
