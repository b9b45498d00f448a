"""fetch_source: atomic, verified downloads into the cache; offline failures are one line.
The network is replaced by in-process fakes (a urlopen-like opener, a fake hub API)."""

import hashlib
import io
import json
import tarfile
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest

from kodcode.sources import SourceError
from kodcode.sources.build import build_seeds, fetch_unit
from kodcode.sources.spec import fetch_units, manifest_path, seed_plan

COMMIT = "c" * 40
REPO = "keon/algorithms"


def tarball(commit=COMMIT, files=None):
    """A GitHub-style archive: one top-level folder, the commit in the pax header."""
    files = files or {"algorithms/stack/stack.py": "class Stack:\n    pass\n", "setup.py": "x = 1\n",
                      "algorithms/__init__.py": ""}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": commit} if commit else None) as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"algorithms-{commit}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Opener:
    """urlopen stand-in serving fixed bytes, or failing part way through."""

    def __init__(self, payload=b"", fail_after=None, error=None):
        self.payload, self.fail_after, self.error, self.calls = payload, fail_after, error, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if self.error:
            raise self.error
        stream = io.BytesIO(self.payload)
        opener = self

        class Resp:
            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False

            def read(self, n=-1):
                if opener.fail_after is not None and stream.tell() >= opener.fail_after:
                    raise ConnectionResetError("connection reset by peer")
                return stream.read(min(n, 1024) if n > 0 else 1024)

        return Resp()


def _config(tmp_path, **src):
    return {"seed": 1, "cache_dir": str(tmp_path / "cache"),
            "sources": {"Data_Structure": {"kind": "github", "repo": REPO, "revision": COMMIT, **src}}}


def _unit(cfg):
    (unit,) = fetch_units(cfg, ["Data_Structure"]).values()
    return unit


def _leftovers(root):
    return sorted(p.name for p in Path(root).rglob("*") if ".part" in p.name)


def test_github_fetch_verifies_commit_and_checksum_then_seeds_build(tmp_path):
    payload = tarball()
    cfg = _config(tmp_path, sha256=hashlib.sha256(payload).hexdigest())
    unit = _unit(cfg)
    opener = Opener(payload)
    m = fetch_unit(unit.to_dict(), manifest_path(cfg, unit), opener=opener)
    assert opener.calls == [f"https://codeload.github.com/{REPO}/tar.gz/{COMMIT}"]
    assert m["resolved_revision"] == COMMIT and m["revision_checked"] and m["sha256_checked"]
    entry = Path(manifest_path(cfg, unit)).parent
    assert (entry / "data" / "archive.tar.gz").read_bytes() == payload and not _leftovers(tmp_path)
    build_seeds(seed_plan(cfg, "Data_Structure"), str(tmp_path / "s.jsonl"), str(tmp_path / "s.json"))
    rows = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert rows == [{"id": "0", "category": "stack", "file_name": "stack", "codes": "class Stack:\n    pass\n"}]
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["sources"][0]["resolved_revision"] == COMMIT and "revision_checked" in stats["sources"][0]["verified"]


def test_second_fetch_reuses_the_cache_entry(tmp_path):
    cfg = _config(tmp_path)
    unit = _unit(cfg)
    fetch_unit(unit.to_dict(), manifest_path(cfg, unit), opener=Opener(tarball()))
    Path(manifest_path(cfg, unit)).unlink()  # e.g. --delete-all-output: the data stays, is re-verified
    offline = Opener(error=urllib.error.URLError("no network"))
    m = fetch_unit(unit.to_dict(), manifest_path(cfg, unit), opener=offline)
    assert offline.calls == [] and m["resolved_revision"] == COMMIT


@pytest.mark.parametrize("opener, match", [
    (Opener(tarball(commit="d" * 40)), "not the pinned"),
    (Opener(tarball()), "does not match the configured"),
    (Opener(tarball(), fail_after=100), "ConnectionResetError"),
])
def test_a_failed_or_unverified_download_leaves_nothing_behind(tmp_path, opener, match):
    cfg = _config(tmp_path, sha256="0" * 64) if "configured" in match else _config(tmp_path)
    unit = _unit(cfg)
    with pytest.raises(SourceError, match=match):
        fetch_unit(unit.to_dict(), manifest_path(cfg, unit), opener=opener)
    entry = Path(manifest_path(cfg, unit)).parent
    assert not (entry / "data").exists() and not (entry / "manifest.json").exists() and not _leftovers(tmp_path)


def test_offline_missing_entry_is_one_line_naming_source_revision_and_cache(tmp_path):
    cfg = _config(tmp_path)
    unit = _unit(cfg)
    with pytest.raises(SourceError) as err:
        fetch_unit(unit.to_dict(), manifest_path(cfg, unit),
                   opener=Opener(error=urllib.error.URLError("[Errno -3] Temporary failure in name resolution")))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("sources.Data_Structure")
    assert f"{REPO}@{COMMIT}" in msg and str(Path(manifest_path(cfg, unit)).parent) in msg


def test_seeds_without_a_manifest_or_data_say_what_to_do(tmp_path):
    cfg = _config(tmp_path)
    with pytest.raises(SystemExit):
        build_seeds(seed_plan(cfg, "Data_Structure"), str(tmp_path / "s.jsonl"), str(tmp_path / "s.json"))
    assert not (tmp_path / "s.jsonl").exists()


# ------------------------------------------------------------------ Hugging Face (fake hub)


class FakeHub:
    """dataset_info + snapshot_download stand-ins: one parquet file per commit."""

    def __init__(self, tmp_path, commit="e" * 40, lfs_sha=None):
        import datasets

        self.file = tmp_path / "hub-file.parquet"
        datasets.Dataset.from_list([{"instruction": "Write a Python function.", "output": "..."}]).to_parquet(str(self.file))
        real = hashlib.sha256(self.file.read_bytes()).hexdigest()
        self.commit, self.lfs_sha, self.downloads = commit, lfs_sha or real, []

    def dataset_info(self, repo, revision=None, files_metadata=False):
        lfs = SimpleNamespace(sha256=self.lfs_sha, size=1)
        return SimpleNamespace(sha=self.commit, siblings=[SimpleNamespace(rfilename="package_instruct/train-00000-of-00001.parquet", lfs=lfs),
                                                          SimpleNamespace(rfilename="README.md", lfs=None)])

    def snapshot_download(self, repo, repo_type=None, revision=None, allow_patterns=None, local_dir=None):
        self.downloads.append((repo, repo_type, revision, allow_patterns))
        d = Path(local_dir)
        (d / "package_instruct").mkdir(parents=True)
        (d / "package_instruct" / "train-00000-of-00001.parquet").write_bytes(self.file.read_bytes())
        (d / "README.md").write_text("---\nconfigs:\n- config_name: package_instruct\n  data_files:\n  - split: train\n"
                                     "    path: package_instruct/train-*\n---\n")
        (d / ".cache" / "huggingface").mkdir(parents=True)
        return str(d)


def _hf_config(tmp_path, revision="main"):
    return {"seed": 3, "cache_dir": str(tmp_path / "cache"), "sources": {"Package": {
        "kind": "hf", "repo": "OpenCoder-LLM/opc-sft-stage2", "revision": revision, "config": "package_instruct",
        "allow_patterns": ["README.md", "package_instruct/*"], "sample": 5}}}


def test_hf_snapshot_is_taken_at_the_resolved_commit_and_checked_against_hub_sha256(tmp_path):
    hub = FakeHub(tmp_path)
    cfg = _hf_config(tmp_path)
    (unit,) = fetch_units(cfg, ["Package"]).values()
    m = fetch_unit(unit.to_dict(), manifest_path(cfg, unit), hf_api=hub, hf_download=hub.snapshot_download)
    assert hub.downloads == [("OpenCoder-LLM/opc-sft-stage2", "dataset", hub.commit, ["README.md", "package_instruct/*"])]
    assert m["resolved_revision"] == hub.commit and m["lfs_sha256_checked"] == 1 and not m["revision_checked"]
    snap = Path(manifest_path(cfg, unit)).parent / "data" / "snapshot"
    assert not (snap / ".cache").exists()
    build_seeds(seed_plan(cfg, "Package"), str(tmp_path / "s.jsonl"), str(tmp_path / "s.json"))
    assert [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()] == [
        {"id": "0", "question": "Write a Python function."}]
    assert json.loads((tmp_path / "s.json").read_text())["sources"][0]["resolved_revision"] == hub.commit


def test_pins_lists_the_commit_a_branch_resolved_to(tmp_path, capsys):
    from kodcode.cli import main

    hub = FakeHub(tmp_path)
    cfg = _hf_config(tmp_path)
    (unit,) = fetch_units(cfg, ["Package"]).values()
    fetch_unit(unit.to_dict(), manifest_path(cfg, unit), hf_api=hub, hf_download=hub.snapshot_download)
    assert main(["sources", "pins", "--cache-dir", cfg["cache_dir"]]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"sources.Package\tOpenCoder-LLM/opc-sft-stage2\tmain\tpin it: revision: {hub.commit}"]
    assert main(["sources", "pins", "--cache-dir", str(tmp_path / "empty")]) == 1
    assert "no fetched sources" in capsys.readouterr().err


@pytest.mark.parametrize("revision, lfs, match", [
    ("f" * 40, None, "resolved it to"),
    ("main", "0" * 64, "the hub says"),
])
def test_hf_pin_or_checksum_mismatch_is_refused(tmp_path, revision, lfs, match):
    hub = FakeHub(tmp_path, lfs_sha=lfs)
    cfg = _hf_config(tmp_path, revision)
    (unit,) = fetch_units(cfg, ["Package"]).values()
    with pytest.raises(SourceError, match=match):
        fetch_unit(unit.to_dict(), manifest_path(cfg, unit), hf_api=hub, hf_download=hub.snapshot_download)
    entry = Path(manifest_path(cfg, unit)).parent
    assert not (entry / "data").exists() and not (entry / "manifest.json").exists() and not _leftovers(tmp_path)


def test_hf_unreachable_hub_is_one_line(tmp_path):
    class Down:
        def dataset_info(self, *a, **kw):
            raise ConnectionError("Failed to resolve 'huggingface.co'\nmore detail")

    cfg = _hf_config(tmp_path)
    (unit,) = fetch_units(cfg, ["Package"]).values()
    with pytest.raises(SourceError) as err:
        fetch_unit(unit.to_dict(), manifest_path(cfg, unit), hf_api=Down(), hf_download=lambda *a, **k: None)
    msg = str(err.value)
    assert "\n" not in msg and "hf OpenCoder-LLM/opc-sft-stage2@main" in msg and "cache" in msg
