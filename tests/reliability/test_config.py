"""Bad configuration stops the run before any job, in one line naming the key (issue 10).

One test per probe: the documented ``--config llm='{...}'`` override, ``api_key_env: null``
given on the command line, a typo or a string inside ``llm.openai``, an unknown top-level
key, and a misconfigured ``sources.<Subset>``. Each runs Snakemake in a scratch copy of the
workflow, as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.testing.fake_openai import FakeOpenAIServer

PROFILE_LINES = ("Using workflow specific profile", "Config file config/config.yaml is extended")


def snakemake(wf: Path, *args: str) -> tuple[int, list[str]]:
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=wf, text=True, capture_output=True,
                          timeout=600)
    return proc.returncode, (proc.stdout + proc.stderr).splitlines()


def own_lines(lines: list[str]) -> list[str]:
    """The output without Snakemake's two notes about the profile and the config merge."""
    return [line for line in lines if line.strip() and not line.startswith(PROFILE_LINES)]


def test_documented_vllm_override_builds_the_dag(wf):
    # as in docs/llm.md (test_docs_commands.py runs it verbatim): the nested 1 used to arrive
    # as the string "1" and clash with --resources gpu=1
    rc, out = snakemake(wf, "-n", "--config", "subsets=[Leetcode]",
                        "llm={backend: vllm, vllm: {tensor_parallel_size: 1}}", "--resources", "gpu=1", "--cores", "8")
    assert rc == 0, "\n".join(out[-20:])
    assert any(line.strip().startswith("generate ") for line in out)


def test_null_api_key_env_on_the_command_line_sends_no_key(wf):
    # null used to arrive as the string "null": "the environment variable null is not set"
    with FakeOpenAIServer() as server:
        llm = f'{{backend: openai, openai: {{base_url: "{server.base_url}", api_key_env: null}}}}'
        rc, out = snakemake(wf, "--cores", "2", "results/Prefill/questions/responses_000.jsonl",
                            "--config", "subsets=[Prefill]", f"llm={llm}")
        assert rc == 0, "\n".join(out[-30:])
        assert server.total_received > 0
    assert (wf / "results/Prefill/questions/responses_000.jsonl").stat().st_size > 0


def test_typo_in_llm_openai_stops_before_any_job(wf):
    rc, out = snakemake(wf, "--cores", "2", "results/Prefill/questions/requests_000.jsonl",
                        "--config", "subsets=[Prefill]", "llm={backend: openai, openai: {concurency: 8}}")
    assert rc == 1
    assert own_lines(out) == [
        "config: llm.openai.concurency is not a known key (did you mean concurrency?); see config/schema.yaml"]
    assert not (wf / "results").exists()


def test_string_for_an_integer_in_a_config_file_stops_before_any_job(wf):
    # in a file YAML has typed the value: "8" is a string the user wrote, so it is named, not coerced
    (wf / "config" / "mine.yaml").write_text('llm: {backend: openai, openai: {concurrency: "8"}}\n')
    rc, out = snakemake(wf, "--cores", "2", "--configfile", "config/mine.yaml")
    assert rc == 1
    assert own_lines(out) == ["config: llm.openai.concurrency is '8', expected an integer; see config/schema.yaml"]
    assert not (wf / "results").exists()


@pytest.mark.parametrize("mode", [["-n"], ["--cores", "2"], ["--lint"]])
def test_unknown_top_level_key_is_one_line_without_the_schema(wf, mode):
    rc, out = snakemake(wf, *mode, "--config", "shardz=2")
    assert rc == 1
    assert own_lines(out) == ["config: shardz is not a known key (did you mean shards?); see config/schema.yaml"]


def test_misconfigured_source_is_one_line(wf):
    rc, out = snakemake(wf, "-n", "--config", "sources={Leetcode: {kind: github}}")
    assert rc == 1
    assert own_lines(out) == ["sources.Leetcode.kind: Leetcode seeds come from a hf source, not github"]


def test_the_prefill_subset_without_a_prefill_section_is_one_line(wf):
    import yaml

    path = wf / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    del cfg["prefill"]
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    rc, out = snakemake(wf, "-n", "--config", "subsets=[Prefill,Leetcode]")
    assert rc == 1
    assert own_lines(out) == ["config: prefill is missing; the Prefill subset needs prefill.family and "
                              "prefill.openings (see config/schema.yaml), or remove it from subsets"]
    rc, _ = snakemake(wf, "-n", "--config", "subsets=[Leetcode]")  # the other subsets do not need it
    assert rc == 0
