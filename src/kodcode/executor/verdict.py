"""The verdict rule, decided on the host from what a worker forwarded.

pass = the report shows at least one test that the test file itself defines, every
collected test passed (no failure, error, skip or xfail), every top-level ``test*``
function of the test file is among the passes, both canaries failed with the host's
nonce, the report ended normally, and the run stayed within its wall limit. The exit
code is recorded, never used.
"""

from __future__ import annotations

import ast
import json
import signal
from dataclasses import dataclass
from typing import Any

from .base import ExecResult

# ---------------------------------------------------------------- stdin/stdout cases


@dataclass(frozen=True)
class StdioCase:
    input: str
    output: str


def parse_stdio_cases(tests: str) -> list[StdioCase]:
    """Parse the JSON form of stdin/stdout tests (see docs/executor.md).

    ``{"cases": [{"input": "1 2\\n", "output": "3\\n"}, ...]}`` or the bare list.
    """
    try:
        data = json.loads(tests)
    except json.JSONDecodeError as exc:
        raise ValueError(f"stdio tests are not JSON: {exc}") from exc
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list) or not cases:
        raise ValueError("stdio tests need a non-empty list of cases")
    out = []
    for i, c in enumerate(cases):
        if not isinstance(c, dict) or not isinstance(c.get("input"), str) or not isinstance(c.get("output"), str):
            raise ValueError(f"stdio case {i}: needs string fields 'input' and 'output'")
        out.append(StdioCase(c["input"], c["output"]))
    return out


def same_output(actual: str, expected: str) -> bool:
    """Whitespace-tolerant: equal as sequences of whitespace-separated tokens."""
    return actual.split() == expected.split()


# ---------------------------------------------------------------- static view of a test file

def _is_fixture(fn: ast.AST) -> bool:
    for dec in getattr(fn, "decorator_list", []):
        node = dec.func if isinstance(dec, ast.Call) else dec
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name == "fixture":
            return True
    return False


def static_tests(source: str) -> tuple[set[str], set[str]]:
    """(top-level test functions, every test-like function or method name) of a test file."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set(), set()
    top, every = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            if not _is_fixture(node):
                top.add(node.name)
                every.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name.startswith("test"):
                    every.add(sub.name)
    return top, every


def base_name(nodeid: str) -> str:
    """``file.py::Class::test_x[a::b]`` -> ``test_x`` (parameter ids may hold anything)."""
    return nodeid.split("[", 1)[0].split("::")[-1]


# ---------------------------------------------------------------- the decision


def _events(raw: str) -> tuple[list[dict[str, Any]], int]:
    events, bad = [], 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(ev, dict) and isinstance(ev.get("ev"), str):
            events.append(ev)
        else:
            bad += 1
    return events, bad


def _coverage(events: list[dict]) -> float | None:
    for ev in events:
        if ev.get("ev") == "coverage":
            st, miss = ev.get("statements"), ev.get("missing")
            if isinstance(st, int) and isinstance(miss, int) and st > 0 and 0 <= miss <= st:
                return round(100.0 * (st - miss) / st, 1)
            return None
    return None


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def decide(reply: dict, *, engine: str, kind: str = "pytest", tests: str = "", canary: str | None = None,
           expected: list[StdioCase] | None = None) -> ExecResult:
    """Turn a worker reply into an ExecResult; see the module docstring for the rule."""
    base = dict(engine=engine, duration_s=float(reply.get("duration", 0.0) or 0.0),
                output=str(reply.get("output", ""))[-8000:])
    if "lost" in reply:
        return ExecResult(verdict="crash", reason=f"worker lost: {reply['lost']}", **base)
    if "internal_error" in reply:
        return ExecResult(verdict="error", reason=f"executor error: {reply['internal_error']}", **base)
    if reply.get("timed_out"):
        return ExecResult(verdict="timeout", reason="wall time limit exceeded (killed with SIGKILL)", **base)
    if reply.get("report_overflow"):
        return ExecResult(verdict="error", reason="test report larger than allowed (written to by the attempt?)", **base)
    events, bad = _events(str(reply.get("report", "")))
    status = reply.get("status") or {}
    cov = _coverage(events)
    ended = any(ev.get("ev") == "end" for ev in events)
    if not ended:
        setup = next((ev for ev in events if ev.get("ev") == "setup_error"), None)
        if setup is not None and not any(ev.get("ev") == "start" for ev in events):
            return ExecResult(verdict="error", reason=f"sandbox setup failed: {setup.get('msg')}", **base)
        if "signaled" in status:
            return ExecResult(verdict="crash", coverage=cov,
                              reason=f"test process killed by {_signal_name(status['signaled'])} before its report ended",
                              **base)
        return ExecResult(verdict="error", coverage=cov,
                          reason=f"test run ended before its report was complete (exit status {status.get('exited')})",
                          **base)
    if bad:
        return ExecResult(verdict="error", coverage=cov, reason=f"{bad} unreadable report line(s): report tampered with",
                          **base)
    if kind == "stdio":
        return _decide_stdio(events, expected or [], cov, base)
    return _decide_pytest(events, tests, canary, cov, base)


def _decide_stdio(events: list[dict], expected: list[StdioCase], cov: float | None, base: dict) -> ExecResult:
    got: dict[int, dict] = {}
    for ev in events:
        if ev.get("ev") == "case" and isinstance(ev.get("i"), int) and ev["i"] not in got:
            got[ev["i"]] = ev
    passed, failed = [], []
    notes = []
    for i, case in enumerate(expected):
        name = f"case_{i}"
        ev = got.get(i)
        if ev is None:
            failed.append(name)
            notes.append(f"{name}: not run")
        elif ev.get("signal") is not None:
            failed.append(name)
            notes.append(f"{name}: killed by {_signal_name(int(ev['signal']))}")
        elif ev.get("exit") not in (0, None):
            failed.append(name)
            notes.append(f"{name}: exit status {ev.get('exit')}")
        elif ev.get("truncated"):
            failed.append(name)
            notes.append(f"{name}: output over the limit")
        elif not same_output(str(ev.get("stdout", "")), case.output):
            failed.append(name)
            notes.append(f"{name}: wrong output")
        else:
            passed.append(name)
    res = ExecResult(verdict="fail", collected=len(expected), passed=passed, failed=failed, coverage=cov, **base)
    if not expected:
        res.verdict, res.reason = "error", "no stdio cases"
    elif failed:
        res.reason = f"{len(passed)}/{len(expected)} cases passed; " + "; ".join(notes[:5])
    else:
        res.verdict = "pass"
    return res


def _decide_pytest(events: list[dict], tests: str, canary: str | None, cov: float | None, base: dict) -> ExecResult:
    collected: list[str] = []
    seen_collected = False
    phases: dict[tuple[str, str], dict] = {}
    collect_errors, collect_skips = [], []
    for ev in events:
        kind = ev.get("ev")
        if kind == "collected" and not seen_collected:  # the first report wins, later ones are ignored
            seen_collected = True
            collected = [str(x) for x in ev.get("items", [])]
        elif kind == "report":
            key = (str(ev.get("id")), str(ev.get("when")))
            phases.setdefault(key, ev)
        elif kind == "collecterror":
            collect_errors.append(ev)
        elif kind == "collectskip":
            collect_skips.append(ev)

    canaries = {f"test_kc_{canary}_first", f"test_kc_{canary}_last"} if canary else set()
    real = [n for n in collected if base_name(n) not in canaries]
    canary_ids = [n for n in collected if base_name(n) in canaries]
    passed, failed, skipped = [], [], []
    for nodeid in real:
        outcomes = [phases.get((nodeid, w)) for w in ("setup", "call", "teardown")]
        if any(o and o.get("outcome") == "failed" for o in outcomes):
            failed.append(nodeid)
        elif any(o and (o.get("outcome") == "skipped" or o.get("xfail")) for o in outcomes):
            skipped.append(nodeid)
        elif outcomes[1] and outcomes[1].get("outcome") == "passed":
            passed.append(nodeid)
        else:  # collected but never run: the session was interrupted
            failed.append(nodeid)
    res = ExecResult(verdict="fail", collected=len(real), passed=passed, failed=failed, skipped=skipped,
                     coverage=cov, **base)

    if not real:
        if collect_errors:
            res.reason = "collection error: " + _last_line(collect_errors[0].get("msg", ""))
        elif collect_skips:
            res.reason = "tests skipped at collection"
        else:
            res.verdict, res.reason = "error", "no tests collected"
        return res
    if canary:
        bad = [c for c in canaries if c not in {base_name(n) for n in canary_ids}]
        for nodeid in canary_ids:
            call = phases.get((nodeid, "call"))
            if not call or call.get("outcome") != "failed" or f"kodcode-canary {canary}" not in str(call.get("msg", "")):
                bad.append(base_name(nodeid))
        if bad:
            res.verdict = "error"
            res.reason = "test runner tampered with: a canary test that must fail did not (" + ", ".join(sorted(bad)) + ")"
            return res
    if collect_errors:
        res.reason = "collection error: " + _last_line(collect_errors[0].get("msg", ""))
        return res
    if failed or skipped:
        parts = [f"{len(passed)}/{len(real)} passed"]
        if failed:
            parts.append(f"failed: {', '.join(base_name(n) for n in failed[:5])}")
        if skipped:
            parts.append(f"skipped or xfailed: {', '.join(base_name(n) for n in skipped[:5])}")
        res.reason = "; ".join(parts)
        return res
    top, every = static_tests(tests)
    names = {base_name(n) for n in passed}
    missing = sorted(top - names)
    if missing:
        res.reason = "tests in the test file were not run: " + ", ".join(missing[:5])
        return res
    if not names & every:
        res.verdict = "error"
        res.reason = "no collected test is defined in the test file (tests came from elsewhere)"
        return res
    res.verdict = "pass"
    return res


def _last_line(msg: str) -> str:
    lines = [ln.strip() for ln in str(msg).splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
