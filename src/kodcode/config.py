"""The workflow configuration, checked before any job: ``--config`` values coerced to the
schema's types, then validated against ``config/schema.yaml`` with its defaults filled in.

Snakemake hands ``--config`` values over half-parsed: a top-level ``key=1`` becomes an
integer, but everything inside a mapping or list (``llm='{vllm: {tensor_parallel_size: 1}}'``)
stays a string, and ``null`` is the string "null". Coercion follows the schema, so "1" becomes
1 only where an integer is wanted, and null (also ``~`` or nothing) is null where null is allowed. Values from config files are not coerced: YAML already
typed them, and a quoted ``"8"`` where an integer belongs is the user's to fix.

Every problem is one line naming the key (``config: llm.openai.concurency is not a known key
(did you mean concurrency?); see config/schema.yaml``); :func:`stop` ends the run with them.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, NoReturn

SCHEMA = "config/schema.yaml"  # relative to the workflow's base directory
_SEE = f"see {SCHEMA}"
_NULLS = frozenset({"null", "Null", "NULL", "~", ""})
_BOOLS = {"true": True, "false": False}
_INT = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
          "null": "null", "array": "a list", "object": "a mapping"}


@dataclass(frozen=True)
class Checked:
    """The config as the workflow will use it, and what is wrong with it (one line each)."""

    config: dict[str, Any]
    problems: list[str]


def load_schema(basedir: str | Path) -> dict[str, Any]:
    """The schema, with the subset names (``definitions.subset_name``) taken from
    kodcode.subsets, the one place that lists them with how each makes its questions."""
    import yaml

    from .subsets import SUBSETS

    with open(Path(basedir) / SCHEMA, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    schema["definitions"]["subset_name"]["enum"] = list(SUBSETS)
    return schema


def check(config: Mapping[str, Any], overrides: Mapping[str, Any], schema: Mapping[str, Any]) -> Checked:
    """``config`` (config files with ``overrides`` already merged in by Snakemake) with the
    overrides coerced and merged again, then validated; defaults filled as
    ``snakemake.utils.validate(set_default=True)`` fills them."""
    merged = merge(_plain(config), coerce(_plain(overrides), schema, schema))  # fresh containers throughout
    return Checked(merged, validate(merged, schema))


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Snakemake's ``update_config`` without the mutation: mappings merge key by key,
    anything else (lists included) replaces what was there."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping):
            old = out.get(key)
            out[key] = merge(old if isinstance(old, Mapping) else {}, value)
        else:
            out[key] = value
    return out


def coerce(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """``value`` with strings turned into what ``schema`` wants where they spell it
    ("1", "0.5", "true", "null"); anything that does not fit is left for validation to name."""
    schema = _resolve(schema, root)
    if isinstance(value, Mapping):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        return {k: coerce(v, props[k] if k in props else extra if isinstance(extra, Mapping) else {}, root)
                for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [coerce(v, items if isinstance(items, Mapping) else {}, root) for v in value]
    return _scalar(value, schema)


def validate(config: dict[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Fill defaults into ``config`` (in place) and return its problems, one line each."""
    from jsonschema import Draft202012Validator, validators

    plain_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):  # snakemake's version calls setdefault on anything
            for key, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from plain_properties(validator, properties, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": properties_with_defaults})
    errors = sorted(cls(schema).iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    lines = [line for e in errors for line in _describe(e)]
    return list(dict.fromkeys(lines))


def stop(problems: Iterable[str]) -> NoReturn:
    """End the run at parse time: each problem on one line (also in Snakemake's log file),
    no traceback. ``raise SystemExit`` is the one exit Snakemake passes through silently."""
    from snakemake.logging import logger

    for line in problems:
        logger.error(line)
    raise SystemExit(1)


def key_path(parts: Iterable[Any]) -> str:
    """``llm.openai.models['Qwen/Qwen2.5-7B'].api_key_env``, ``subsets[0]``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.fullmatch(str(p)):
            out += f".{p}" if out else str(p)
        else:
            out += f"[{str(p)!r}]"
    return out


# ---------------------------------------------------------------------------- internals


def _plain(value: Any) -> Any:
    """Plain dicts and lists (Snakemake keeps ``--config`` in an immutable map)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object" if isinstance(value, Mapping) else "array"


def _allowed(schema: Mapping[str, Any]) -> set[str] | None:
    """JSON types the schema accepts, or None when it does not say."""
    t = schema.get("type")
    if t is not None:
        return {t} if isinstance(t, str) else set(t)
    if "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    return None


def _scalar(value: Any, schema: Mapping[str, Any]) -> Any:
    allowed = _allowed(schema)
    if allowed is None:
        return value
    enum = schema.get("enum")
    if isinstance(value, str):
        if "null" in allowed and value in _NULLS:
            return None
        if "string" in allowed and (enum is None or value in enum):
            return value
        for kind in ("boolean", "integer", "number"):
            parsed = _parse(kind, value) if kind in allowed else None
            if parsed is not None and (enum is None or parsed in enum):
                return parsed
        return value
    # Snakemake reads a top-level `version=2` as 2: give strings back where only strings belong
    if value is not None and "string" in allowed and not _fits(value, allowed):
        return str(value)
    return value


def _fits(value: Any, allowed: set[str]) -> bool:
    kind = _json_type(value)
    return kind in allowed or (kind == "integer" and "number" in allowed) or (
        kind == "number" and "integer" in allowed and float(value).is_integer())


def _parse(kind: str, text: str) -> Any:
    if kind == "boolean":
        return _BOOLS.get(text.lower())
    if kind == "integer":
        return int(text) if _INT.fullmatch(text) else None
    if _INT.fullmatch(text):
        return int(text)
    return float(text) if _NUMBER.fullmatch(text) else None


def _describe(error: Any) -> list[str]:
    """One line per problem in a jsonschema ``ValidationError``."""
    path = list(error.absolute_path)
    where = key_path(path) or "the config"
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.absolute_schema_path:  # a map key outside its allowed names
        names = [str(n) for n in error.schema.get("enum") or []]
        return [f"config: {key_path(path + [instance])} is not a known key{_hint(str(instance), names)}; {_SEE}"]
    if kind == "additionalProperties" and expected is False:
        known = list(error.schema.get("properties") or {})
        return [f"config: {key_path(path + [k])} is not a known key{_hint(str(k), known)}; {_SEE}"
                for k in sorted(set(instance) - set(known), key=str)]
    if kind == "required":
        return [f"config: {key_path(path + [k])} is missing; add it ({_SEE})" for k in expected if k not in instance]
    if kind == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        want = " or ".join(_WORDS.get(t, t) for t in types)
        return [f"config: {where} is {_short(instance)}, expected {want}; {_SEE}"]
    if kind == "enum":
        names = ", ".join("null" if v is None else str(v) for v in expected)
        hint = _hint(str(instance), [str(v) for v in expected if v is not None], list_all=False)
        return [f"config: {where} is {_short(instance)}, expected one of: {names}{hint}; {_SEE}"]
    if kind == "pattern":
        return [f"config: {where} is {_short(instance)}, which does not match {expected}; {_SEE}"]
    return [f"config: {where}: {_one_line(error.message)}; {_SEE}"]


def _hint(word: str, names: list[str], list_all: bool = True) -> str:
    """A "did you mean" for a near miss, else the names to choose from (when asked)."""
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (known keys: {', '.join(names)})" if names and list_all else ""


def _short(value: Any, limit: int = 80) -> str:
    """The value as the user wrote it: null and true/false in YAML's words, strings quoted."""
    text = "null" if value is None else str(value).lower() if isinstance(value, bool) else _one_line(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
