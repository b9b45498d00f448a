"""Bad input: each probe of issue 10 on real inputs (the demo's seeds and source copies, copied
and damaged). The user gets one line naming the file, line or folder and the cause; what is
bad is dropped and counted, the rest goes on; nothing too large is sent to a model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.sources.build import build_seeds
from kodcode.sources.spec import subset_source
from kodcode.stages.questions import question_requests
from kodcode.stages.release import _sum_stats, flow_row
from kodcode.subsets import spec
from kodcode.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
DEMO_SEEDS = ROOT / "demo" / "seeds" / "leetcode.jsonl"  # 10 lines, the last one an empty question
LIMIT = 200_000  # llm.max_prompt_chars as the schema fills it in; the rule passes it to every stage
LIMIT_REASON = f"longer than llm.max_prompt_chars ({LIMIT})"
MODEL = {"model": "m", "temperature": 0.0, "top_p": 1.0, "max_tokens": 2048, "stop": []}  # a models.* entry, filled in


def damaged_seeds(tmp_path: Path, line: int, make_bad) -> Path:
    """A copy of the demo's prepared Leetcode seeds with line ``line`` (1-based) replaced."""
    lines = DEMO_SEEDS.read_bytes().split(b"\n")
    lines[line - 1] = make_bad(lines[line - 1])
    out = tmp_path / "leetcode.jsonl"
    out.write_bytes(b"\n".join(lines))
    return out


def non_utf8(line: bytes) -> bytes:
    return line.replace(b"integer", b"int\xe9ger", 1)  # a Latin-1 "é" in the middle of a statement


def run_seeds(tmp_path: Path, plan: dict) -> tuple[list[dict], dict, list[str]]:
    seeds_out, stats_out = tmp_path / "seeds.jsonl", tmp_path / "seeds.stats.json"
    notes = build_seeds(plan={"seed": 1, "cache_dir": str(tmp_path / "cache"), **plan}, out_seeds=str(seeds_out),
                        out_stats=str(stats_out), max_prompt_chars=LIMIT)
    return read_jsonl(seeds_out), read_json(stats_out), notes


# ------------------------------------------------------------------ attempt folders


def test_an_undecodable_attempt_file_is_that_attempts_error_and_the_others_run(tmp_path):
    from kodcode.executor.engines import bwrap_problem

    if bwrap_problem() is not None:
        pytest.skip(f"bwrap unusable here: {bwrap_problem()}")
    root = tmp_path / "attempts"
    for name in ("a_good", "b_bad"):
        (root / name).mkdir(parents=True)
        (root / name / "solution.py").write_text("def add(a, b):\n    return a + b\n")
    tests = b"from solution import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    (root / "a_good" / "test_solution.py").write_bytes(tests)
    (root / "b_bad" / "test_solution.py").write_bytes(tests.replace(b"def test", b"# caf\xe9\ndef test"))
    out = tmp_path / "verdicts.json"
    proc = subprocess.run([sys.executable, "-m", "kodcode.cli", "execute", str(root), "--out", str(out),
                           "--workers", "1", "--timeout", "20"], cwd=tmp_path, text=True, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    verdicts = json.loads(out.read_text())
    assert verdicts["a_good"]["verdict"] == "pass"
    assert verdicts["b_bad"]["verdict"] == "error"
    assert "b_bad/test_solution.py is not UTF-8 text (byte 0xe9 at line 4" in verdicts["b_bad"]["reason"]
    assert "b_bad/test_solution.py" in proc.stderr  # named on the console too


def test_an_attempt_that_is_not_valid_text_is_that_attempts_error_and_not_stored(tmp_path):
    """The workflow's attempts are already text: a lone surrogate (from a JSON escape such as
    "\\udce9" in a model answer) must cost that attempt, not the batch."""
    from kodcode.executor import Attempt, Limits, run_attempts
    from kodcode.store import ContentStore

    solution, tests = "def add(a, b):\n    return a + b\n", "from solution import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    attempts = [Attempt("ok", solution, tests), Attempt("bad", solution + "# caf\udce9\n", tests)]
    store = ContentStore(tmp_path / "store", "verdicts")
    results, counts = run_attempts(attempts, Limits(timeout_s=10), engine="none", store=store, workers=1, preload=())
    assert [r.verdict for r in results] == ["pass", "error"]
    assert results[1].reason.startswith("the attempt's solution is not valid text")
    _, again = run_attempts(attempts, Limits(timeout_s=10), engine="none", store=store, workers=1, preload=())
    assert again == {"attempts": 2, "cached": 1, "executed": 1}  # the good verdict is stored, the bad one not


# ------------------------------------------------------------------ seeds


def test_a_non_utf8_byte_in_a_prepared_seed_line_costs_that_line_only(tmp_path):
    bad = damaged_seeds(tmp_path, 1, non_utf8)
    seeds, stats, notes = run_seeds(tmp_path, {"subset": "Leetcode", "file": str(bad)})
    assert len(seeds) == 8 and "lc-001" not in {s["id"] for s in seeds}  # 10 lines: the empty one, the bad one
    assert stats["dropped"] == {"empty question": 1, "malformed line (not UTF-8)": 1}
    assert stats["malformed"] == [f"{bad} line 1: not UTF-8"]
    assert notes == [f"Leetcode seeds: 1 of 10 lines dropped as malformed ({bad} line 1): "
                     f"see {tmp_path / 'seeds.stats.json'}"]


def test_a_non_utf8_byte_in_a_source_line_costs_that_line_only(tmp_path):
    """The same in the demo's copy of the Hugging Face Leetcode source, read with ``datasets``."""
    copy = tmp_path / "leetcode"
    shutil.copytree(ROOT / "demo" / "sources" / "leetcode", copy)
    data = copy / "leetcode-train.jsonl"
    lines = data.read_bytes().split(b"\n")
    lines[0] = non_utf8(lines[0])
    data.write_bytes(b"\n".join(lines))
    source = subset_source("Leetcode", {"kind": "hf", "repo": "greengerong/leetcode", "revision": "main",
                                        "path": str(copy)})
    seeds, stats, notes = run_seeds(tmp_path, {"subset": "Leetcode", "source": source.to_dict(), "manifests": [None]})
    assert len(seeds) == 8 and "9001" not in {s["id"] for s in seeds}
    assert stats["read"] == 10 and stats["dropped"] == {"empty question": 1, "malformed line (not UTF-8)": 1}
    assert notes and f"({data} line 1)" in notes[0]


def test_a_10_mb_seed_line_is_dropped_and_counted_never_sent(tmp_path):
    from kodcode.stages.common import prompt_chars

    huge = json.dumps({"id": "lc-huge", "question": "Sort the list. " * 700_000}).encode()  # ~10 MB
    bad = damaged_seeds(tmp_path, 3, lambda line: huge)
    seeds, stats, notes = run_seeds(tmp_path, {"subset": "Leetcode", "file": str(bad)})
    assert "lc-huge" not in {s["id"] for s in seeds} and len(seeds) == 8
    assert stats["dropped"][LIMIT_REASON] == 1 and stats["over_limit"] == ["lc-huge"]
    assert any(f"llm.max_prompt_chars ({LIMIT} characters; ids lc-huge)" in n for n in notes)
    # counted where the data-flow table reads it
    assert LIMIT_REASON + ": 1" in flow_row("Leetcode", _sum_stats([str(tmp_path / "seeds.stats.json")]))["seed_drops"]

    # a prompt built over the limit (three seeds and the template) is dropped and counted too
    outs = [str(tmp_path / "requests_000.jsonl")]
    limit = 1300
    params = {"subset": {"n_prompts": 6}, "model": MODEL, "seed": 7, "prefill": None,
              "template": load_template(spec("Leetcode").template), "max_prompt_chars": limit}
    notes = question_requests("Leetcode", str(tmp_path / "seeds.jsonl"), outs, str(tmp_path / "q.json"), params)
    sent = read_jsonl(outs[0])
    qstats = read_json(tmp_path / "q.json")
    dropped = qstats["dropped"].get("longer than llm.max_prompt_chars (1300)", 0)
    assert 0 < dropped < 6 and len(sent) + dropped == 6 == qstats["prompts"] + dropped
    assert all(prompt_chars(Request.from_dict(r["request"])) <= limit for r in sent)
    assert notes and notes[0].startswith(f"Leetcode question prompts: {dropped} of 6 dropped as longer than")
    stats = _sum_stats([str(tmp_path / "seeds.stats.json"), str(tmp_path / "q.json")])
    assert flow_row("Leetcode", stats)["prompt_drops"] == f"longer than llm.max_prompt_chars (1300): {dropped}"


@pytest.mark.parametrize("content, says", [
    (b"", "is empty"),
    (b"\n  \n", "is empty"),
    (b'{"id": "x", "question": broken\n\xff\n{"id": "y", "question": ""}\n', "holds no valid seed in its 3 lines"),
])
def test_a_prepared_seed_file_without_a_seed_is_named_in_one_line(tmp_path, content, says):
    from kodcode.seeds import prepared_file_problem

    f = tmp_path / "seeds.jsonl"
    f.write_bytes(content)
    problem = prepared_file_problem(f, spec("Leetcode"), LIMIT)
    assert problem.startswith(f"seeds.Leetcode: {f} {says}") and "\n" not in problem
    assert prepared_file_problem(DEMO_SEEDS, spec("Leetcode"), LIMIT) is None


# ------------------------------------------------------------------ through Snakemake



def snakemake(wf_shared: Path, seed_file: Path, *targets: str) -> subprocess.CompletedProcess:
    overlay = wf_shared / f"{seed_file.stem}.yaml"
    overlay.write_text(f"subsets: [Leetcode]\nseeds: {{Leetcode: {seed_file}}}\n")
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "config/config.yaml",
                           str(overlay), "--", *targets], cwd=wf_shared, text=True, capture_output=True, timeout=600)


def test_an_empty_seed_file_stops_the_run_before_any_job_in_one_line(wf_shared, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    proc = snakemake(wf_shared, empty)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    line = (f'seeds.Leetcode: {empty} is empty; give one seed per line, a JSON object with an "id" and a '
            'non-empty "question"')
    assert line in out.splitlines() and "Traceback" not in out, out[-3000:]
    assert not (wf_shared / "results").exists()  # no job ran


def test_malformed_seed_lines_are_reported_on_the_console(wf_shared, tmp_path):
    bad = damaged_seeds(tmp_path, 4, lambda line: b'{"id": "lc-004", "question": broken')
    lines = bad.read_bytes().split(b"\n")
    lines[8] = non_utf8(lines[8]) if b"integer" in lines[8] else lines[8] + b"\xff"
    bad.write_bytes(b"\n".join(lines))
    proc = snakemake(wf_shared, bad, "results/Leetcode/seeds.stats.json")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert (f"Leetcode seeds: 2 of 10 lines dropped as malformed ({bad} lines 4, 9): "
            "see results/Leetcode/seeds.stats.json") in out.splitlines()
    stats = read_json(wf_shared / "results" / "Leetcode" / "seeds.stats.json")
    drops = flow_row("Leetcode", _sum_stats([str(wf_shared / "results" / "Leetcode" / "seeds.stats.json")]))["seed_drops"]
    assert stats["kept"] == 7 and "malformed line (not JSON): 1" in drops and "malformed line (not UTF-8): 1" in drops
