"""Runs inside the sandbox, in the attempt's own folder: pytest + line coverage.

Started as ``python -I runner.py`` so it does not depend on the kodcode package being
importable where the attempt runs (a container, another machine). It reports the test
outcomes on the pipe whose descriptor is its first argument, which the attempt's code never needs; the verdict is
decided by the parent from that report, never from the exit code.
"""

import json
import os
import sys


class _Collector:
    def __init__(self):
        self.collected = 0
        self.passed, self.failed, self.skipped = [], [], []

    def pytest_collection_modifyitems(self, items):
        self.collected = len(items)

    def pytest_runtest_logreport(self, report):
        name = report.nodeid
        if report.when == "call" and report.passed and not hasattr(report, "wasxfail"):
            self.passed.append(name)
        elif report.skipped or hasattr(report, "wasxfail"):
            if name not in self.skipped:
                self.skipped.append(name)
        elif report.failed and name not in self.failed:
            self.failed.append(name)


def main():
    report_fd = int(sys.argv[1])
    here = os.getcwd()
    sys.path.insert(0, here)
    import coverage
    import pytest

    solution = os.path.join(here, "solution.py")
    cov = coverage.Coverage(data_file=None, include=[solution], branch=False)
    collector = _Collector()
    cov.start()
    try:
        code = pytest.main(
            ["-q", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", here, "--confcutdir", here,
             "test_solution.py"],
            plugins=[collector],
        )
    finally:
        cov.stop()
    percent = None
    try:
        _, statements, _, missing, _ = cov.analysis2(solution)
        if statements:
            percent = round(100.0 * (len(statements) - len(missing)) / len(statements), 1)
    except Exception:  # solution never imported
        percent = None
    report = {
        "collected": collector.collected,
        "passed": collector.passed,
        "failed": collector.failed,
        "skipped": collector.skipped,
        "coverage": percent,
        "exit": int(code),
    }
    with os.fdopen(report_fd, "w") as fh:
        fh.write(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
