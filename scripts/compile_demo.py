"""Compile the authored demo responses into the replay archive the default config reads.

    python scripts/compile_demo.py

`demo/responses/*.yaml` hold responses written by this project's developers (not by a
model), keyed by ``stage/item/sample``. The requests they answer are whatever the
workflow's current prompt templates produce, so this script runs the whole workflow in a
scratch folder with the `authored` backend, then exports the store it filled to
`demo/archive.jsonl`. Edit a template or a response, rerun this script, commit both files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _drop_timestamps(path: Path) -> None:
    """Authored responses have no arrival time; dropping it keeps recompiles byte-stable."""
    import json

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row["record"]["received_at"] = None
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")


def _absolute_paths(node):
    """The config's local source copies (every ``path:`` under ``sources`` or ``paper``), made absolute:
    the workflow runs in a scratch folder."""
    if isinstance(node, dict):
        return {k: (str(ROOT / v) if k == "path" and isinstance(v, str) else _absolute_paths(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_paths(v) for v in node]
    return node


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "demo" / "archive.jsonl"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder and print its path")
    ap.add_argument("--cores", default="2")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from kodcode.llm.authored import load_authored
    from kodcode.llm.client import response_store

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    scratch = Path(tempfile.mkdtemp(prefix="kodcode-demo-compile-"))
    store = scratch / "store"
    config["store"] = str(store)
    config["llm"]["backend"] = "authored"
    config["llm"]["authored_responses"] = str(ROOT / config["llm"]["authored_responses"])
    config["seeds"] = {k: str(ROOT / v) for k, v in config.get("seeds", {}).items()}
    config["sources"] = _absolute_paths(config.get("sources", {}))
    if "paper" in config:  # the local copies of the Fig. 4 baseline sets
        config["paper"] = _absolute_paths(config["paper"])
    cfg_path = scratch / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(scratch),
           "--configfile", str(cfg_path), "--cores", args.cores, "--profile", str(ROOT / "profiles" / "default"),
           "--quiet", "rules", "--keep-going"]
    print("running:", " ".join(cmd), file=sys.stderr)
    if subprocess.run(cmd).returncode != 0:
        print(f"workflow failed; logs are in {scratch}/logs (look for 'no authored response')", file=sys.stderr)
        return 1
    store_obj = response_store(str(store))
    authored = load_authored(config["llm"]["authored_responses"])
    served = {f"{r['stage']}/{r['item_id']}/{r['request']['sample']}" for _, r in store_obj.items()}
    unused = sorted(set(authored) - served)
    if unused:
        # a stale key means a response nobody asks for: an id or sample that changed
        print(f"{len(unused)} authored responses were not requested (stale keys): {unused}; run kept in {scratch}", file=sys.stderr)
        return 1
    n = store_obj.export(args.out)
    _drop_timestamps(Path(args.out))
    if n != len(served):
        print(f"exported {n} responses but the run served {len(served)}", file=sys.stderr)
        return 1
    print(f"wrote {n} responses to {args.out}")
    if args.keep:
        print(f"scratch folder: {scratch}")
    else:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
