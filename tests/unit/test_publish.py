"""`kodcode publish` (kodcode.exports.publish) on a real demo release (tests/data/exports_release):
the dry run lists every file with its size and every config, with no token and nothing sent;
an upload through huggingface_hub against the local stand-in of the hub's HTTP API
(kodcode.testing.fake_hub, 127.0.0.1 only) delivers exactly those bytes, and `datasets` loads
the configs of what arrived; without a token or a licence nothing is sent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kodcode.cli import main
from kodcode.exports.publish import build_plan, masked
from kodcode.testing.fake_hub import FakeHub

DATA = Path(__file__).resolve().parents[1] / "data" / "exports_release"
TOKEN = "hf_testtoken_5c2d0a"
REPO = ("dataset", "kodcode-test/KodCode-demo")


@pytest.fixture
def release(tmp_path) -> Path:
    dest = tmp_path / "results" / "release"
    shutil.copytree(DATA / "release", dest)
    return dest


@pytest.fixture
def no_token(monkeypatch):
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def hub(monkeypatch):
    with FakeHub(token=TOKEN) as hub:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield hub


def publish(release: Path, *args: str) -> int:
    return main(["publish", "--repo-id", "/".join(REPO[1:]), "--release-dir", str(release), *args])


def card_paths(release: Path) -> list[str]:
    return sorted(p.relative_to(release).as_posix() for p in release.rglob("*.parquet"))


def test_dry_run_lists_every_file_and_config_without_a_token(release, no_token, capsys):
    assert publish(release, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "nothing is uploaded" in out and "license cc-by-nc-4.0" in out
    for rel in ["README.md", "provenance.json", "dataflow.tsv", *card_paths(release)]:
        size = (release / rel).stat().st_size
        assert f"{size:,}  {rel}" in out, rel
    assert "2 configs" in out and "  v1:\n" in out and "  sft_r1:\n" in out
    assert "    Leetcode   KodCode-V1/Leetcode.parquet" in out
    assert "    Taco       KodCode-V1-SFT-R1/Taco.parquet" in out


def test_plan_follows_the_cards_configs(release):
    plan = build_plan(release)
    assert [name for name, _ in plan.configs] == ["v1", "sft_r1"]
    assert [s for s, _ in plan.configs[0][1]] == ["Leetcode", "Docs", "Algorithm", "Taco"]
    assert sorted(f.path_in_repo for f in plan.files if f.path_in_repo.endswith(".parquet")) == card_paths(release)
    (release / "KodCode-V1" / "Stale.parquet").write_bytes(b"old")
    assert build_plan(release).skipped == ["KodCode-V1/Stale.parquet"]  # not in the card: not uploaded


def test_upload_sends_exactly_the_release_files(release, hub, monkeypatch, capsys, tmp_path):
    import datasets

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert publish(release, "--endpoint", hub.url, "--private") == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    files = hub.state.repos[REPO]["main"]
    assert sorted(files) == sorted(["README.md", "provenance.json", "dataflow.tsv", *card_paths(release)])
    for path, data in files.items():
        assert data == (release / path).read_bytes(), path
    assert hub.state.private[REPO] is True and hub.state.unauthorized == 0
    assert len(hub.state.commits) == 1 and hub.state.commits[0]["summary"].startswith("Upload KodCode release (config ")
    # what arrived is a dataset repo `datasets` can load by its card's configs
    local = tmp_path / "hub_copy"
    for path, data in files.items():
        (local / path).parent.mkdir(parents=True, exist_ok=True)
        (local / path).write_bytes(data)
    ds = datasets.load_dataset(str(local), "v1", split="Leetcode")
    assert set(ds["subset"]) == {"Leetcode"} and len(ds) > 0
    assert len(datasets.load_dataset(str(local), "sft_r1", split="Docs")) > 0


def test_a_second_upload_to_an_existing_repo_and_a_branch(release, hub, monkeypatch):
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", TOKEN)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert publish(release, "--endpoint", hub.url) == 0
    assert publish(release, "--endpoint", hub.url, "--revision", "v1.0-demo") == 0
    assert set(hub.state.repos[REPO]) == {"main", "v1.0-demo"}
    assert [c["revision"] for c in hub.state.commits] == ["main", "v1.0-demo"]


def test_without_a_token_nothing_is_sent(release, hub, no_token, capsys):
    assert publish(release, "--endpoint", hub.url) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set HF_TOKEN" in err
    assert hub.state.requests == []


def test_without_a_licence_nothing_is_sent(release, hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    card = release / "README.md"
    card.write_text(card.read_text().replace("license: cc-by-nc-4.0\n", ""))
    assert publish(release, "--endpoint", hub.url) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no `license:`" in err and str(card) in err
    assert hub.state.requests == []
    assert publish(release, "--dry-run") == 2  # the dry run refuses it too


def test_a_missing_data_file_is_one_line_naming_it(release, no_token, capsys):
    (release / "KodCode-V1" / "Docs.parquet").unlink()
    assert publish(release, "--dry-run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KodCode-V1/Docs.parquet: missing (config v1, split Docs)" in err


def test_a_refused_token_is_exit_3_and_never_shown(release, hub, monkeypatch, capsys):
    wrong = "hf_not_the_right_one_91f3"
    monkeypatch.setenv("HF_TOKEN", wrong)
    assert publish(release, "--endpoint", hub.url) == 3
    out = capsys.readouterr()
    assert "401" in out.err and out.err.count("\n") == 1 and wrong not in out.out + out.err
    assert hub.state.unauthorized == 1 and REPO not in hub.state.repos
    assert masked(f"token {wrong} rejected", wrong) == "token *** rejected"


def test_bad_repo_id_is_one_line(release, no_token, capsys):
    assert main(["publish", "--repo-id", "no-slash", "--release-dir", str(release), "--dry-run"]) == 2
    assert "expected ORG/NAME" in capsys.readouterr().err


@pytest.fixture
def exports(release) -> Path:
    """The four exports of the demo release, as the rules make them (the Light-RL re-run is
    stood in for: every reference passes)."""
    from kodcode.exports.light_rl import export_light_rl
    from kodcode.exports.sharegpt import export_llamafactory, export_trl
    from kodcode.exports.verl import export_verl

    out = release.parent / "exports"
    v1 = sorted(str(p) for p in (release / "KodCode-V1").glob("*.parquet"))
    sft = sorted(str(p) for p in (release / "KodCode-V1-SFT-R1").glob("*.parquet"))
    lr = out / "light-rl"
    export_light_rl(v1, str(lr / "train.parquet"), str(lr / "test.parquet"), str(lr / "summary.json"),
                    {"light_rl": {"n": 14, "test_size": 4, "seed": 3, "exclude_imports": []}, "executor": {}}, None,
                    check=lambda rows: [True] * len(rows))
    export_verl(str(lr / "train.parquet"), str(lr / "test.parquet"), str(out / "verl" / "train.parquet"),
                str(out / "verl" / "test.parquet"), str(out / "verl" / "kodcode_reward.py"),
                {"data_source": "kodcode", "instruction": ""})
    f = {"sft_filter": {"enabled": False}}
    export_llamafactory(sft, str(out / "llamafactory" / "kodcode_sft_r1.json"),
                        str(out / "llamafactory" / "dataset_info.json"), str(out / "llamafactory" / "summary.json"), f)
    export_trl(sft, str(out / "trl" / "train.jsonl"), str(out / "trl" / "summary.json"), f)
    return out


def test_exports_go_under_exports_with_a_config_each(release, exports, hub, monkeypatch, capsys, tmp_path):
    import datasets

    assert publish(release, "--exports", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "4 configs" in out and "  light_rl:\n    train  exports/light-rl/train.parquet" in out
    for rel in ("verl/kodcode_reward.py", "llamafactory/kodcode_sft_r1.json", "llamafactory/dataset_info.json",
                "trl/train.jsonl"):
        assert f"{(exports / rel).stat().st_size:,}  exports/{rel}" in out
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert publish(release, "--exports", "--endpoint", hub.url) == 0
    files = hub.state.repos[REPO]["main"]
    assert files["exports/verl/train.parquet"] == (exports / "verl" / "train.parquet").read_bytes()
    assert files["README.md"] != (release / "README.md").read_bytes()  # configs added to the uploaded card only
    assert "light_rl" not in (release / "README.md").read_text()
    local = tmp_path / "hub_copy"
    for path, data in files.items():
        (local / path).parent.mkdir(parents=True, exist_ok=True)
        (local / path).write_bytes(data)
    assert len(datasets.load_dataset(str(local), "light_rl", split="test")) == 4
    verl = datasets.load_dataset(str(local), "verl", split="train")
    assert verl[0]["reward_model"]["style"] == "rule"
    # the SFT files as LLaMA-Factory and TRL read them, from the downloaded folder
    info = json.loads(files["exports/llamafactory/dataset_info.json"])
    sharegpt = datasets.load_dataset("json", data_files=str(local / "exports" / "llamafactory" /
                                                            info["kodcode_sft_r1"]["file_name"]), split="train")
    assert sharegpt[0]["conversations"][0]["from"] == "human"
    messages = datasets.load_dataset("json", data_files=str(local / "exports" / "trl" / "train.jsonl"), split="train")
    assert messages[0]["messages"][1]["role"] == "assistant"


def test_exports_requested_but_not_built_is_one_line(release, no_token, capsys):
    assert publish(release, "--exports", "--dry-run") == 2
    assert "exports.enabled: true" in capsys.readouterr().err
