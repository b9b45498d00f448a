"""Warm-up: real pytest sessions in the worker before it says hello, so that every fork
starts with each lazily imported module loaded and pytest's caches filled."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time

from . import pytest_speedups
from .events import read_to_end
from .pytest_runner import run_pytest
from .pytest_session import SessionTemplate
from .stdio_runner import statements_of

WARMUP = [  # (solution, tests): the common shapes of passing and failing attempts
    ("def add(a, b):\n    return a + b\n",
     "from solution import *\nimport pytest\n\n"
     "def test_add():\n    assert add(1, 2) == 3\n\n"
     "@pytest.mark.parametrize('a', [1, 2])\ndef test_param(a, tmp_path, capsys, monkeypatch):\n"
     "    print(a)\n    assert add(a, 0) == a\n\n"
     "def test_fails():\n    assert add(1, 1) == {'x': [3]}\n\n"
     "def test_raises_inside():\n    add(1, None)\n\n"
     "class TestGroup:\n    def test_raises(self):\n        with pytest.raises(TypeError):\n            add(1, None)\n"),
    ("def add(a, b):\n    return a + b\n", "from solution import missing_name\n\ndef test_a():\n    pass\n"),
    ("def add(a, b):\n    return a + b\n", "from solution import *\n\ndef test_a(:\n    pass\n"),
    ("import no_such_module_kodcode\n", "from solution import *\n\ndef test_a():\n    pass\n"),
    ("def f(:\n", "from solution import *\n\ndef test_a():\n    assert f()\n"),
]


def _attempt_folder(base: str, solution: str, tests: str) -> str:
    work = tempfile.mkdtemp(prefix="warmup-", dir=base)
    for name, text in (("solution.py", solution), ("test_solution.py", tests)):
        with open(os.path.join(work, name), "w") as fh:
            fh.write(text)
    return work


def _in_this_process(base: str, pattern: str, solution: str, tests: str) -> None:
    work = _attempt_folder(base, solution, tests)
    cwd = os.getcwd()
    r, w = os.pipe()
    try:
        os.chdir(work)
        sys.path.insert(0, work)
        run_pytest(work, w, "0" * 16, pattern)
        statements_of(os.path.join(work, "solution.py"))  # warms coverage's parser and tokenizer
    finally:
        os.close(w)
        while os.read(r, 65536):
            pass
        os.close(r)
        os.chdir(cwd)
        sys.path.remove(work)
        for name in ("solution", "test_solution", "no_such_module_kodcode"):
            sys.modules.pop(name, None)
        shutil.rmtree(work, ignore_errors=True)


def _in_a_fork(work: str, template: SessionTemplate | None = None) -> bool:
    """The first warm-up attempt in a forked child, as attempts will run: whether its report
    reached its end (with ``template``: on that shared session, in ``work``)."""
    for name, text in zip(("solution.py", "test_solution.py"), WARMUP[0]):
        with open(os.path.join(work, name), "w") as fh:
            fh.write(text)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.chdir(work)
            sys.path.insert(0, work)
            run_pytest(work, w, "0" * 16, None, template)
        finally:
            os._exit(0)
    os.close(w)
    report = read_to_end(r)
    os.waitpid(pid, 0)
    events = [json.loads(line) for line in report.decode().splitlines() if line.strip()]
    return any(e.get("ev") == "end" for e in events)


def template_works(template: SessionTemplate, workdir: str) -> bool:
    return _in_a_fork(workdir, template)


def warm_up(base: str, pattern: str, cases: int | None = None) -> dict:
    """Real pytest sessions in this process, then one in a fork. ``cases``: how many of the
    warm-up attempts to run (all by default; a small batch needs only the first, as priming
    the rarer paths costs more than it saves over a few attempts)."""
    start = time.monotonic()
    slower = pytest_speedups.install()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        for solution, tests in WARMUP[:cases]:
            _in_this_process(base, pattern, solution, tests)
        work = tempfile.mkdtemp(prefix="warmup-", dir=base)
        ok = _in_a_fork(work)
        shutil.rmtree(work, ignore_errors=True)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
    return {"seconds": round(time.monotonic() - start, 3), "ok": ok, "cases": len(WARMUP[:cases]),
            "speedups_skipped": slower}
