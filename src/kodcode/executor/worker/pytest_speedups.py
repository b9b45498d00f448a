"""Faster equivalents of two pytest internals, installed once in the worker.

Each replaces a function whose result the attempt cannot tell apart, only the time it
takes; measured per attempt (docs/executor.md, "Where an attempt's time goes"):

* ``getstatementrange_ast`` is memoized by source text: formatting a traceback otherwise
  re-parses pytest's and importlib's own (large) sources in every fork;
* at an interrupted session (collection errors) the terminal reporter keeps only the crash
  line it prints, unless that line says KeyboardInterrupt, instead of formatting the full
  traceback through pytest's own frames that nothing shows.

Any of them that does not fit the installed pytest is skipped: the worker is then only slower.
"""

from __future__ import annotations

import hashlib


def memoize_statement_ranges() -> None:
    from _pytest._code import code as _code
    from _pytest._code import source as _source

    original = _source.getstatementrange_ast
    cache: dict = {}

    def getstatementrange_ast(lineno, source, assertion=False, astnode=None):
        if astnode is not None:
            return original(lineno, source, assertion, astnode)
        key = (lineno, assertion, hashlib.sha1(str(source).encode("utf-8", "surrogatepass")).digest())
        hit = cache.get(key)
        if hit is None:
            hit = original(lineno, source, assertion, None)
            if len(cache) < 4096:
                cache[key] = hit
        return hit

    _source.getstatementrange_ast = getstatementrange_ast
    _code.getstatementrange_ast = getstatementrange_ast


class _CrashOnly:
    """What ``TerminalReporter._report_keyboardinterrupt`` reads when no traceback is shown."""

    def __init__(self, reprcrash):
        self.reprcrash = reprcrash


def crash_line_for_interruptions() -> None:
    from _pytest.terminal import TerminalReporter

    original = TerminalReporter.pytest_keyboard_interrupt

    def pytest_keyboard_interrupt(self, excinfo):
        crash = excinfo._getreprcrash()
        if crash is None or "KeyboardInterrupt" in crash.message:
            return original(self, excinfo)
        self._keyboardinterrupt_memo = _CrashOnly(crash)
        return None

    TerminalReporter.pytest_keyboard_interrupt = pytest_keyboard_interrupt


def install() -> list[str]:
    """Install every speed-up that fits; the names of those that did not."""
    skipped = []
    for patch in (memoize_statement_ranges, crash_line_for_interruptions):
        try:
            patch()
        except Exception:  # another pytest layout
            skipped.append(patch.__name__)
    return skipped
