"""Fig. 4's baseline sets: config entries, the demo's copies in each hub layout read by the real
loader, sampling, the cache entry they share with the seed sources, and progress in the logs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from kodcode.paper import baselines as bl
from kodcode.paper.files import PaperInputError
from kodcode.sources.spec import fetch_units

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "sources"


def _demo_entries():
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return {e["name"]: e for e in cfg["paper"]["baselines"]}


@pytest.mark.parametrize("name, available, dropped", [
    ("OSS-Instruct", 5, {"filtered_out": 2, "empty": 0}),  # the Rust and Java rows are not Python
    ("ACECoder", 5, {"filtered_out": 0, "empty": 0}),
    ("Educational-Instruct", 6, {"filtered_out": 0, "empty": 0}),
    ("Package-Instruct", 3, {"filtered_out": 0, "empty": 1}),  # the empty instruction
])
def test_demo_copy_in_the_hub_layout_is_read_by_the_builtin_spec(name, available, dropped):
    b = bl.baseline(_demo_entries()[name])
    assert b.files == bl.BUILTIN[name].files and b.sample == 2000
    rows, stats = bl.sample_questions(b)
    assert stats["available"] == stats["sampled"] == len(rows) == available
    assert {k: stats[k] for k in dropped} == dropped
    assert all(r["question"].strip() and "#" in r["question_id"] for r in rows)
    assert rows == sorted(rows, key=lambda r: r["question_id"])


def test_oss_instruct_keeps_python_rows_only():
    rows, _ = bl.sample_questions(bl.baseline(_demo_entries()["OSS-Instruct"]))
    lines = [json.loads(x) for x in (DEMO / "oss-instruct" / "data-oss_instruct-decontaminated.jsonl").open()]
    python = {x["problem"] for x in lines if x["lang"] == "python"}
    assert {r["question"] for r in rows} == python


def test_sample_is_a_stable_subset(tmp_path):
    src = tmp_path / "mine.jsonl"
    src.write_text("".join(json.dumps({"question": f"Write a function number {i}."}) + "\n" for i in range(50)))
    b = bl.baseline({"name": "mine", "path": str(src), "sample": 7})
    first, stats = bl.sample_questions(b)
    again, _ = bl.sample_questions(b)
    assert first == again and len(first) == 7 and stats["available"] == 50
    bigger, _ = bl.sample_questions(bl.baseline({"name": "mine", "path": str(src), "sample": 20}))
    assert {r["question_id"] for r in first} <= {r["question_id"] for r in bigger}  # a sample grows, not reshuffles


def test_a_folder_of_your_own_and_its_field(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "sets").mkdir()
    pq.write_table(pa.table({"prompt": ["Sort a list.", "Reverse a string."]}), tmp_path / "sets" / "a.parquet")
    rows, _ = bl.sample_questions(bl.baseline({"name": "Mine", "path": str(tmp_path / "sets"), "field": "prompt"}))
    assert [r["question"] for r in rows] == ["Sort a list.", "Reverse a string."]
    with pytest.raises(PaperInputError, match=r"paper.baselines.Mine: .*a.parquet has no column question"):
        bl.sample_questions(bl.baseline({"name": "Mine", "path": str(tmp_path / "sets")}))


@pytest.mark.parametrize("entry, message", [
    ("Magicoder", r"paper.baselines.Magicoder: not a known set \(OSS-Instruct, ACECoder, .*needs path"),
    ({"name": "ACECoder", "split": "train"}, r"paper.baselines.ACECoder: unknown key\(s\) split"),
    ({"name": "mine", "path": "x.jsonl", "revision": "abc"}, r"revision applies to the known hub sets only"),
    ({"name": "ACECoder", "field": "prompt"}, r"field applies to a local copy"),
    ({"name": "a/b", "path": "x.jsonl"}, r"'a/b' cannot name a file"),
])
def test_config_errors_are_one_line(entry, message):
    with pytest.raises(PaperInputError, match=message) as err:
        bl.baseline(entry)
    assert "\n" not in str(err.value)


def test_a_set_listed_twice_is_refused():
    with pytest.raises(PaperInputError, match="ACECoder is listed twice"):
        bl.configured({"paper": {"baselines": ["ACECoder", {"name": "ACECoder", "sample": 5}]}})


def test_hub_sets_are_pinned_and_package_instruct_shares_the_package_seed_cache_entry():
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    sets = bl.configured(paper)
    assert list(sets) == ["OSS-Instruct", "ACECoder", "Educational-Instruct", "Package-Instruct"]
    assert all(b.unit().pinned for b in sets.values())  # full commit SHAs, checked when fetched
    (package_seeds,) = fetch_units(paper, ["Package"]).values()
    assert sets["Package-Instruct"].unit().key == package_seeds.key
    assert len({b.unit().key for b in sets.values()}) == 4


def test_write_baseline_reads_the_cached_snapshot_and_records_its_commit(tmp_path):
    b = bl.BUILTIN["ACECoder"]
    entry = tmp_path / "cache" / b.unit().key
    snap = entry / "data" / "snapshot"
    (snap / "data").mkdir(parents=True)
    (snap / "data" / "train-00000-of-00001.parquet").write_bytes(
        (DEMO / "acecode" / "data" / "train-00000-of-00001.parquet").read_bytes())
    (entry / "manifest.json").write_text(json.dumps({"data": "data", "resolved_revision": b.revision}))
    out = tmp_path / "out"
    bl.write_baseline(b.to_dict(), str(entry / "manifest.json"), str(out / "q.jsonl"), str(out / "q.stats.json"))
    stats = json.loads((out / "q.stats.json").read_text())
    assert stats["resolved_revision"] == b.revision and stats["sampled"] == 5
    assert stats["source"] == f"hf TIGER-Lab/AceCode-87K@{b.revision}"
    assert len((out / "q.jsonl").read_text().splitlines()) == 5


def test_a_cache_entry_without_its_data_is_one_line(tmp_path):
    from kodcode.sources.errors import SourceError

    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(SourceError, match="the cached data beside this manifest is gone"):
        bl.write_baseline(bl.BUILTIN["ACECoder"].to_dict(), str(tmp_path / "manifest.json"),
                          str(tmp_path / "q.jsonl"), str(tmp_path / "s.json"))


# ---------------------------------------------------------------- progress in the logs


class _Model:
    def __init__(self):
        self.calls = []

    def encode(self, texts, batch_size, normalize_embeddings, show_progress_bar):
        self.calls.append(len(texts))
        return np.ones((len(texts), 3), dtype="float32")


def test_embedding_many_texts_shows_progress_and_keeps_order(monkeypatch, capsys):
    from kodcode import dedup

    monkeypatch.setattr(dedup, "PROGRESS_CHUNK", 4)
    m = _Model()
    vecs = dedup.embed(m, [f"t{i}" for i in range(10)], 2, desc="embedding questions")
    assert vecs.shape == (10, 3) and m.calls == [4, 4, 2]
    assert "embedding questions" in capsys.readouterr().err
    dedup.embed(m, ["a", "b"], 2, desc="embedding questions")  # one chunk: no bar
    assert m.calls[-1] == 2 and "embedding" not in capsys.readouterr().err


def test_a_download_shows_bytes_and_rate(tmp_path, capsys):
    import io

    from kodcode.sources.cache import download

    class Resp(io.BytesIO):
        headers = {"Content-Length": str(3 << 20)}

    download("https://example.org/a.tar.gz", tmp_path / "a.tar.gz", opener=lambda url, timeout: Resp(b"x" * (3 << 20)))
    err = capsys.readouterr().err
    assert "downloading a.tar.gz" in err and "3.15M/3.15M" in err and "B/s" in err
