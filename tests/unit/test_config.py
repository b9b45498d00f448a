from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = str(ROOT / "config" / "schema.yaml")


def _config(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_validate(name):
    validate(_config(name), schema=SCHEMA)


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c.update(shardz=2), "shardz"),
    (lambda c: c.update(shards="two"), "shards"),
    (lambda c: c["verify"].update(attempts=0), "attempts"),
    (lambda c: c.update(subsets=["Leetcod"]), "Leetcod"),
    (lambda c: c["llm"].update(backend="gpt"), "gpt"),
])
def test_bad_config_names_the_key(mutate, key):
    cfg = _config()
    mutate(cfg)
    with pytest.raises(WorkflowError, match=key):
        validate(cfg, schema=SCHEMA)


def test_defaults_are_filled():
    cfg = _config()
    del cfg["shards"]
    validate(cfg, schema=SCHEMA)
    assert cfg["shards"] == 1
