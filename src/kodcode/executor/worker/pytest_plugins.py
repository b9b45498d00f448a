"""The pytest arguments and plugins every attempt's session runs with (coverage: ``measure.py``).

``Reporter`` streams collection and per-phase reports to the report pipe and injects the
host's canary tests; ``OwnTestsOnly`` keeps imported callables from being collected.
"""

from __future__ import annotations

import os

from . import events

DISABLED_PLUGINS = ("cacheprovider", "pastebin", "junitxml", "doctest", "stepwise", "setuponly", "setupplan",
                    "nose", "unraisableexception", "threadexception")


class Reporter:
    """pytest plugin: streams collection and per-phase reports to the report pipe.

    It also injects two canary tests with names chosen by the host, one before and one
    after the real tests, each of which must fail with the host's nonce. A solution that
    makes pytest report every test as passed (patching ``Function.runtest``, the report
    class or a report hook) also makes a canary "pass", which the host sees.
    """

    def __init__(self, fd: int, canary: str | None):
        from _pytest.outcomes import Failed

        self.fd = fd  # both set per attempt: a session set up in the worker serves every fork
        self.canary = canary
        self.failed = Failed  # taken before any attempt code runs
        self.canary_ids: set[str] = set()
        self.real_tests = 0

    def emit(self, obj: dict) -> None:
        events.emit(self.fd, obj)

    def pytest_collection_modifyitems(self, session, config, items):
        import pytest

        if items and self.canary:
            module = items[0].getparent(pytest.Module) or items[0].parent
            # a pytest.fail without traceback: its report is the message alone, so nothing
            # looks for source to quote
            scope: dict = {"NONCE": self.canary, "Failed": self.failed}
            exec(compile("def canary():\n    raise Failed('kodcode-canary ' + NONCE, pytrace=False)\n",
                         "<kodcode-canary>", "exec"), scope)
            canary, nonce = scope["canary"], self.canary
            first = pytest.Function.from_parent(module, name=f"test_kc_{nonce}_first", callobj=canary)
            last = pytest.Function.from_parent(module, name=f"test_kc_{nonce}_last", callobj=canary)
            items[:0] = [first]
            items.append(last)
            self.canary_ids = {first.nodeid, last.nodeid}
        self.real_tests = len(items) - len(self.canary_ids)
        self.emit({"ev": "collected", "items": [it.nodeid for it in items]})

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit({"ev": "collecterror", "id": report.nodeid, "msg": str(report.longrepr)[-2000:]})
        elif report.skipped:
            self.emit({"ev": "collectskip", "id": report.nodeid, "msg": str(report.longrepr)[-500:]})

    def pytest_runtest_logreport(self, report):
        msg = ""
        if report.failed or report.skipped:
            msg = str(report.longrepr)[-2000:]
        self.emit({"ev": "report", "id": report.nodeid, "when": report.when, "outcome": report.outcome,
                   "xfail": hasattr(report, "wasxfail"), "msg": msg})


def pytest_args(workdir: str) -> list[str]:
    # -c /dev/null: no ini file is searched for (parents could hold one); --confcutdir
    # stops conftest.py discovery at the attempt's own folder. Plugins the run does not
    # need are not loaded (third-party autoload is off through the environment).
    args = ["-q", "--tb=short", "-c", os.devnull, "--rootdir", workdir, "--confcutdir", workdir,
            "-o", "console_output_style=classic"]
    for plugin in DISABLED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    return args + ["test_solution.py"]


def own_tests_only():
    """pytest plugin: only callables defined in the test file itself are tests.

    pytest (8.4+) also collects a callable that the test file imports under a ``test``
    name (``from heapq import merge as test_merge``) and fails the run on it; the tests an
    attempt wrote are the ones it defines, so imported names are skipped at collection.
    """
    import pytest

    class OwnTestsOnly:
        @pytest.hookimpl(tryfirst=True)
        def pytest_pycollect_makeitem(self, collector, name, obj):
            if isinstance(collector, pytest.Module) and callable(obj):
                if getattr(obj, "__module__", None) != collector.obj.__name__:
                    return []  # an imported name: no test item, and pytest looks no further
            return None

    return OwnTestsOnly()
