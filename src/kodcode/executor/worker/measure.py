"""Line coverage of ``solution.py``: traced only while code that may run the solution runs.

Coverage traces every Python call while it is on, which made it the largest single cost of
an attempt (a third of it, measured). What it is for is choosing, among a question's
passing attempts, the one whose tests cover the most. So it traces while tests set up, run
and tear down, and during collection only while the test module's own code runs: the
window opens after pytest has rewritten the module's asserts (``_rewrite_test``) and
closes when the import returns (``importtestmodule``); pytest's collecting around it runs
untraced. When pytest is laid out otherwise, the whole collection is traced, as before.
The lines are counted for every attempt, failing ones too: the release's trials carry each
attempt's ``test_coverage``, as upstream's do.
"""

from __future__ import annotations

_COVERAGE: dict = {}
_WINDOW: dict = {"cov": None, "open": False, "installed": False}


def coverage_for(pattern: str):
    """A Coverage object for ``pattern``, created and started once in the worker so that
    the forks skip its slow first start."""
    import coverage

    cov = _COVERAGE.get(pattern)
    if cov is None:  # the worker's warm-up run measures nothing that matches ``pattern``,
        cov = coverage.Coverage(data_file=None, include=[pattern], config_file=False, branch=False)
        _COVERAGE[pattern] = cov  # so a fork starts with empty data and skips the set-up
    return cov


def trace_module_code_only() -> bool:
    """Open coverage's collection window around the test module's own code; False when
    this pytest has no such seam (then collection is traced whole)."""
    if _WINDOW["installed"]:
        return True
    try:
        from _pytest import python
        from _pytest.assertion import rewrite

        import_module, rewrite_test = python.importtestmodule, rewrite._rewrite_test
    except (ImportError, AttributeError):
        return False

    def importtestmodule(*args, **kwargs):
        cov = _WINDOW["cov"]
        _WINDOW["open"] = cov is not None
        try:
            return import_module(*args, **kwargs)
        finally:
            _WINDOW["open"] = False
            if cov is not None and cov._started:  # noqa: SLF001
                cov.stop()

    def _rewrite_test(*args, **kwargs):
        result = rewrite_test(*args, **kwargs)
        if _WINDOW["open"]:  # the module's code runs next
            _WINDOW["open"] = False
            _WINDOW["cov"].start()
        return result

    python.importtestmodule = importtestmodule
    rewrite._rewrite_test = _rewrite_test
    _WINDOW["installed"] = True
    return True


def measuring(cov):
    """pytest plugin: line coverage while tests set up, run and tear down, and while the test
    module's code runs at collection (``trace_module_code_only``)."""
    import pytest

    windowed = trace_module_code_only()

    class Measure:
        depth = 0  # collection reports nest (session, folder, module)

        def _wrap(self):
            self.depth += 1
            if self.depth == 1:
                cov.start()
            try:
                return (yield)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    cov.stop()

        @pytest.hookimpl(wrapper=True)
        def pytest_make_collect_report(self, collector):
            if windowed:
                _WINDOW["cov"] = cov
                return (yield)
            return (yield from self._wrap())

        # innermost (trylast): capture, logging and warnings wrap each phase outside the window
        phase = pytest.hookimpl(wrapper=True, trylast=True)
        pytest_runtest_setup = phase(lambda self, item: (yield from self._wrap()))
        pytest_runtest_call = phase(lambda self, item: (yield from self._wrap()))
        pytest_runtest_teardown = phase(lambda self, item, nextitem: (yield from self._wrap()))

    return Measure()


def line_coverage(cov, solution: str) -> dict:
    """The ``coverage`` event: statements of ``solution`` and how many never ran (None when
    it was never imported)."""
    try:
        _, statements, _, missing, _ = cov.analysis2(solution)
        return {"ev": "coverage", "statements": len(statements), "missing": len(missing)}
    except Exception:  # solution never imported
        return {"ev": "coverage", "statements": None, "missing": None}
