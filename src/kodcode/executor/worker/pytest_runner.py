"""The pytest side of an attempt: one in-process pytest session whose events stream to the
report pipe, then the line coverage of ``solution.py`` (``measure.py``) and the end marker.

Runs in the attempt's process (C). The session is the worker's ``SessionTemplate`` when
there is one, else a plain ``pytest.main`` with the same arguments and plugins.
"""

from __future__ import annotations

import os
import sys

from . import events
from .measure import coverage_for, line_coverage, measuring
from .pytest_plugins import Reporter, own_tests_only, pytest_args
from .pytest_session import SessionTemplate


def run_pytest(workdir: str, report_fd: int, canary: str | None, pattern: str | None = None,
               template: SessionTemplate | None = None) -> None:
    solution = os.path.join(workdir, "solution.py")
    cov = coverage_for(pattern or solution)
    try:
        if template is not None:
            reporter = template.reporter
            code = template.run(report_fd, canary)
        else:
            import pytest

            reporter = Reporter(report_fd, canary)
            code = pytest.main(pytest_args(workdir), plugins=[reporter, own_tests_only(), measuring(cov)])
    finally:
        if cov._started:  # noqa: SLF001 - a phase that never returned
            cov.stop()
    # counted for failing attempts too (about 3 ms): the release's trials carry every attempt's
    # test_coverage, as upstream's do
    events.emit(report_fd, line_coverage(cov, solution))
    sys.stdout.flush()
    sys.stderr.flush()
    events.emit(report_fd, {"ev": "end", "exitstatus": int(code)})
