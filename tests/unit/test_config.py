"""kodcode.config: --config coercion, the merge, validation with defaults, one-line messages."""

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from snakemake.cli import parse_config
from snakemake.utils import update_config, validate as snakemake_validate

from kodcode.config import check, coerce, key_path, load_schema, merge, stop, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT)


def _config(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def _cli(*entries):
    """What Snakemake makes of `--config ENTRY...`, merged over config/config.yaml as it does."""
    overrides = parse_config(list(entries))
    cfg = _config()
    update_config(cfg, overrides)
    return check(cfg, overrides, SCHEMA)


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_validate_with_the_same_defaults_as_snakemake(name):
    ours = check(_config(name), {}, SCHEMA)
    assert ours.problems == []
    theirs = _config(name)
    snakemake_validate(theirs, schema=str(ROOT / "config" / "schema.yaml"))  # other tests still use it
    assert ours.config == theirs


@pytest.mark.parametrize("mutate, line", [
    (lambda c: c.update(shardz=2), "config: shardz is not a known key (did you mean shards?); see config/schema.yaml"),
    (lambda c: c.update(shards="two"), "config: shards is 'two', expected an integer; see config/schema.yaml"),
    (lambda c: c["verify"].update(attempts=0),
     "config: verify.attempts: 0 is less than the minimum of 1; see config/schema.yaml"),
    (lambda c: c.update(subsets=["Leetcod"]), "config: subsets[0] is 'Leetcod', expected one of: Prefill, Leetcode, "
     "Codeforces, Apps, Taco, Code_Contests, Package, Evol, Algorithm, Data_Structure, Docs, Filter (did you mean "
     "Leetcode?); see config/schema.yaml"),
    (lambda c: c["llm"].update(backend="gpt"),
     "config: llm.backend is 'gpt', expected one of: replay, authored, openai, vllm; see config/schema.yaml"),
    (lambda c: c["llm"].update(openai={"concurency": 8}),
     "config: llm.openai.concurency is not a known key (did you mean concurrency?); see config/schema.yaml"),
    (lambda c: c["llm"].update(openai={"concurrency": "8"}),
     "config: llm.openai.concurrency is '8', expected an integer; see config/schema.yaml"),
    (lambda c: c["llm"].update(vllm={"zzz": 1}), "config: llm.vllm.zzz is not a known key (known keys: "
     "tensor_parallel_size, gpu_memory_utilization, max_model_len, dtype, seed, enable_prefix_caching, "
     "trust_remote_code, batch_size, models, download_dir, engine_args); see config/schema.yaml"),
    (lambda c: c["llm"].update(openai={"models": {"Qwen/Qwen2.5": {"api_key": "X"}}}),
     "config: llm.openai.models['Qwen/Qwen2.5'].api_key is not a known key (did you mean api_key_env?); "
     "see config/schema.yaml"),
    (lambda c: c["llm"].update(openai={"api_key_env": "OPENAI KEY"}),
     "config: llm.openai.api_key_env is 'OPENAI KEY', which does not match ^[A-Za-z_][A-Za-z0-9_]*$; "
     "see config/schema.yaml"),
    (lambda c: c["llm"].update(max_prompt_chars=10), "config: llm.max_prompt_chars: 10 is less than the minimum "
     "of 1000; see config/schema.yaml"),
    (lambda c: c["sources"].update(Leetcod=c["sources"]["Leetcode"]),
     "config: sources.Leetcod is not a known key (did you mean Leetcode?); see config/schema.yaml"),
    (lambda c: c["models"].pop("style"), "config: models.style is missing; add it (see config/schema.yaml)"),
    (lambda c: c.update(llm="vllm"), "config: llm is 'vllm', expected a mapping; see config/schema.yaml"),
])
def test_a_bad_config_is_one_line_naming_the_key(mutate, line):
    cfg = _config()
    mutate(cfg)
    assert check(cfg, {}, SCHEMA).problems == [line]


def test_every_problem_is_reported_once_in_key_order():
    cfg = _config()
    cfg.update(shardz=1, seed=-1)
    cfg["llm"]["openai"] = {"concurency": 8, "timeout_s": "x"}
    problems = check(cfg, {}, SCHEMA).problems
    assert [p.split()[1].rstrip(":") for p in problems] == ["shardz", "llm.openai.concurency", "llm.openai.timeout_s",
                                                            "seed"]


def test_defaults_are_filled_where_the_keys_are_absent():
    cfg = _config()
    del cfg["shards"]
    out = check(cfg, {}, SCHEMA).config
    assert out["shards"] == 1
    assert out["llm"]["max_prompt_chars"] == 200000
    assert out["llm"]["vllm"]["tensor_parallel_size"] == 1
    assert "shards" not in cfg  # the input is left as it was


def test_filled_defaults_are_not_shared_between_keys():
    out = check(_config(), {}, SCHEMA).config
    out["llm"]["openai"]["models"]["x"] = {}
    assert out["llm"]["vllm"]["models"] == {}


@pytest.mark.parametrize("entry, path, value", [
    ("llm={backend: vllm, vllm: {tensor_parallel_size: 1}}", ("llm", "vllm", "tensor_parallel_size"), 1),
    ("llm={backend: vllm, vllm: {gpu_memory_utilization: 0.5}}", ("llm", "vllm", "gpu_memory_utilization"), 0.5),
    ("llm={backend: vllm, vllm: {gpu_memory_utilization: 1}}", ("llm", "vllm", "gpu_memory_utilization"), 1),
    ("llm={vllm: {trust_remote_code: true}}", ("llm", "vllm", "trust_remote_code"), True),
    ("llm={vllm: {enable_prefix_caching: False}}", ("llm", "vllm", "enable_prefix_caching"), False),
    ("llm={vllm: {max_model_len: null}}", ("llm", "vllm", "max_model_len"), None),
    ("llm={vllm: {max_model_len: 4096}}", ("llm", "vllm", "max_model_len"), 4096),
    ("llm={openai: {api_key_env: null}}", ("llm", "openai", "api_key_env"), None),
    ("llm={openai: {api_key_env: ~}}", ("llm", "openai", "api_key_env"), None),
    ("llm={openai: {api_key_env: MY_KEY}}", ("llm", "openai", "api_key_env"), "MY_KEY"),
    ("llm={openai: {models: {m: {api_key_env: null}}}}", ("llm", "openai", "models", "m", "api_key_env"), None),
    ("llm={openai: {concurrency: \"8\", timeout_s: 1e2}}", ("llm", "openai", "concurrency"), 8),
    ("llm={openai: {timeout_s: 1e2}}", ("llm", "openai", "timeout_s"), 100.0),
    ("verify={attempts: 3, pass_at_k: [1, 2]}", ("verify", "pass_at_k"), [1, 2]),
    ("questions={Prefill: {n_prompts: 2}}", ("questions", "Prefill", "n_prompts"), 2),
    ("filter={chat_format: null}", ("filter", "chat_format"), None),
    ("filter={chat_format: llama-3}", ("filter", "chat_format"), "llama-3"),
    ("executor={limits: {timeout_s: 2.5}}", ("executor", "limits", "timeout_s"), 2.5),
    ("demo=true", ("demo",), True),
    ("prompts_dir=null", ("prompts_dir",), None),
    ("version=2", ("version",), "2"),
    ("run_name=1.5", ("run_name",), "1.5"),
    ("shards=2", ("shards",), 2),
])
def test_config_overrides_take_the_schemas_types(entry, path, value):
    checked = _cli(entry)
    assert checked.problems == []
    got = checked.config
    for key in path:
        got = got[key]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("entry, line", [
    ("llm={openai: {concurrency: eight}}", "config: llm.openai.concurrency is 'eight', expected an integer"),
    ("llm={vllm: {trust_remote_code: maybe}}", "config: llm.vllm.trust_remote_code is 'maybe', expected true or false"),
    ("shards=null", "config: shards is 'null', expected an integer"),  # null where null is not allowed
    ("shards=", "config: shards is null, expected an integer"),  # Snakemake's own null
    ("llm={vllm: {enable_prefix_caching: 1}}", "config: llm.vllm.enable_prefix_caching is '1', expected true or false"),
])
def test_an_override_that_does_not_fit_is_named(entry, line):
    assert [p.split(";")[0] for p in _cli(entry).problems] == [line]


def test_an_override_merges_into_the_config_files_mapping():
    out = _cli("llm={backend: vllm, vllm: {tensor_parallel_size: 2}}").config
    assert out["llm"]["backend"] == "vllm"
    assert out["llm"]["replay_archives"] == ["demo/archive.jsonl"]  # kept from config/config.yaml
    assert out["llm"]["vllm"]["tensor_parallel_size"] == 2
    assert _cli("subsets=[Leetcode]").config["subsets"] == ["Leetcode"]  # a list replaces the list


def test_merge_is_snakemakes_update_config_without_mutation():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": "x"}
    over = {"a": {"c": [3], "f": {"g": 1}}, "d": {"h": 2}, "e": None}
    expected = copy.deepcopy(base)
    update_config(expected, over)
    before = copy.deepcopy(base)
    assert merge(base, over) == expected
    assert base == before


def test_coerce_leaves_what_the_schema_does_not_type():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
              "additionalProperties": False}
    assert coerce({"n": "1", "s": "1", "other": "1"}, schema, schema) == {"n": 1, "s": "1", "other": "1"}
    assert coerce({"n": "1.5"}, schema, schema) == {"n": "1.5"}  # not an integer: validation names it


def test_key_path():
    assert key_path(["llm", "openai", "concurrency"]) == "llm.openai.concurrency"
    assert key_path(["subsets", 0]) == "subsets[0]"
    assert key_path(["llm", "vllm", "models", "Qwen/Qwen2.5"]) == "llm.vllm.models['Qwen/Qwen2.5']"


def test_stop_exits_with_one_line_per_problem(capsys):
    with pytest.raises(SystemExit) as err:
        stop(["config: a is wrong; see config/schema.yaml"])
    assert err.value.code == 1


def _objects(node, path=""):
    """Every object schema in the schema tree, with where it is."""
    if isinstance(node, dict):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            yield path, node
        for key, sub in node.items():
            yield from _objects(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _objects(sub, f"{path}/{i}")


def test_every_section_of_the_schema_is_closed():
    open_ = [p for p, node in _objects(SCHEMA) if "additionalProperties" not in node]
    assert open_ == ["/properties/llm/properties/vllm/properties/engine_args"]  # passed to vllm.LLM as is


@pytest.mark.parametrize("section, module, cls", [
    ("openai", "kodcode.llm.openai_backend", "OpenAIConfig"),
    ("vllm", "kodcode.llm.vllm_backend", "VLLMConfig"),
])
def test_backend_sections_match_their_dataclasses(section, module, cls):
    import importlib

    fields = {f.name: f for f in dataclasses.fields(getattr(importlib.import_module(module), cls))}
    props = SCHEMA["properties"]["llm"]["properties"][section]["properties"]
    assert set(props) == set(fields)
    defaults = {k: f.default if f.default is not dataclasses.MISSING else f.default_factory() for k, f in fields.items()}
    assert {k: p["default"] for k, p in props.items()} == defaults


def test_validate_fills_defaults_in_place():
    cfg = _config()
    cfg["llm"].pop("max_failure_share")
    assert validate(cfg, SCHEMA) == []
    assert cfg["llm"]["max_failure_share"] == 0.05


def test_the_subset_names_come_from_kodcode_subsets_only():
    """The schema file does not list the subsets a second time; load_schema fills them in."""
    import yaml

    from kodcode.subsets import SUBSETS

    raw = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
    assert "enum" not in raw["definitions"]["subset_name"]
    assert SCHEMA["definitions"]["subset_name"]["enum"] == list(SUBSETS)
    cfg = _config()
    cfg["subsets"] = list(SUBSETS)[::-1]
    assert check(cfg, {}, SCHEMA).problems == []
