"""config/README.md documents every key of config/schema.yaml, so the two cannot drift apart.

Key paths are dotted (``llm.openai.base_url``); ``*`` stands for a name the user chooses
(``questions.*.n_prompts``, ``llm.openai.models.*.base_url``), ``[]`` for the entries of a list
(``decontam.benchmarks[].revision``). Sibling keys of one shape (the ``models.*`` entries) are
documented once, as ``parent.*.key``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "config" / "schema.yaml"
README = ROOT / "config" / "README.md"


def _resolve(node: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def key_paths(node: Mapping[str, Any], schema: Mapping[str, Any], prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Every key path below ``node``, parents before children."""
    assert depth < 20, f"{prefix}: schema nests too deep (a $ref loop?)"
    node = _resolve(node, schema)
    props: Mapping[str, Any] = node.get("properties") or {}
    shared = Counter(sub["$ref"] for sub in props.values() if isinstance(sub, dict) and "$ref" in sub)
    for key, sub in props.items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        inner = f"{prefix}.*" if prefix and shared.get(sub.get("$ref"), 0) > 1 else path
        yield from key_paths(sub, schema, inner, depth + 1)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from key_paths(extra, schema, f"{prefix}.*", depth + 1)
    items = node.get("items")
    if isinstance(items, dict):
        yield from key_paths(items, schema, f"{prefix}[]", depth + 1)
    for variant in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
        yield from key_paths(variant, schema, prefix, depth + 1)


def schema_key_paths() -> list[str]:
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    return list(dict.fromkeys(key_paths(schema, schema)))


def test_every_schema_key_is_in_the_config_readme():
    paths = schema_key_paths()
    assert {"run_name", "llm.openai.base_url", "models.*.temperature", "questions.*.n_prompts",
            "decontam.benchmarks[].revision"} <= set(paths)
    text = README.read_text(encoding="utf-8")
    missing = [p for p in paths if f"`{p}`" not in text]
    assert not missing, f"config/README.md does not document {missing}: add a row for each (key, default, effect)"


def test_readme_names_no_key_the_schema_lacks():
    """A key removed from the schema leaves the README too: every backquoted path in the tables'
    first column must still be a schema key."""
    known = set(schema_key_paths())
    text = README.read_text(encoding="utf-8")
    stale = []
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        stale += [k for k in first_cell.split("`")[1::2] if k not in known]
    assert not stale, f"config/README.md documents keys config/schema.yaml does not have: {stale}"


def test_key_paths_on_a_small_schema():
    schema = {
        "definitions": {"m": {"type": "object", "properties": {"name": {}, "t": {}}}},
        "properties": {
            "models": {"properties": {"a": {"$ref": "#/definitions/m"}, "b": {"$ref": "#/definitions/m"}}},
            "one": {"$ref": "#/definitions/m"},
            "by_name": {"additionalProperties": {"properties": {"n": {}}}},
            "items": {"items": {"oneOf": [{"type": "string"}, {"properties": {"rev": {}}}]}},
        },
    }
    assert list(dict.fromkeys(key_paths(schema, schema))) == [
        "models", "models.a", "models.*.name", "models.*.t", "models.b",
        "one", "one.name", "one.t", "by_name", "by_name.*.n", "items", "items[].rev"]
