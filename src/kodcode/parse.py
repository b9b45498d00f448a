"""Parsing model answers: solution/test sections, completion tasks, reasoning answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.S | re.I)


class ParseError(ValueError):
    """The answer lacks a section we need; the message is the recorded reason."""


def _section(text: str, name: str) -> str:
    text = text.replace("\r\n", "\n")  # some models answer with CRLF line ends
    begin, end = f"<|{name} Begin|>", f"<|{name} End|>"
    start = text.find(begin)
    if start < 0:
        raise ParseError(f"missing {begin}")
    stop = text.find(end, start + len(begin))
    if stop < 0:
        raise ParseError(f"missing {end}")
    return text[start + len(begin) : stop]


def strip_fences(block: str) -> str:
    """The code inside a markdown fence when there is one, else the block itself."""
    fenced = _FENCE.findall(block)
    code = "\n\n".join(f.strip("\n") for f in fenced) if fenced else block
    return code.strip("\n").rstrip() + "\n"


@dataclass(frozen=True)
class SolutionAndTests:
    solution: str
    test: str


def parse_solution_and_tests(text: str | None) -> SolutionAndTests:
    if not text:
        raise ParseError("empty response")
    solution = strip_fences(_section(text, "Solution"))
    test = strip_fences(_section(text, "Test"))
    if not solution.strip():
        raise ParseError("empty solution")
    if not test.strip():
        raise ParseError("empty test")
    return SolutionAndTests(solution=solution, test=test)


def parse_completion(text: str | None) -> str:
    if not text:
        raise ParseError("empty response")
    body = strip_fences(_section(text, "Completion"))
    if not body.strip():
        raise ParseError("empty completion")
    return body


TEST_PREAMBLE = "from solution import *\n\n"


def executable_tests(test_code: str) -> str:
    """The file that is run: upstream prepends a star import so tests may omit theirs."""
    return TEST_PREAMBLE + test_code


def parse_reasoning_answer(text: str | None) -> str:
    """The Python code a reasoning model gave after its ``</think>``."""
    if not text:
        raise ParseError("empty response")
    head, sep, answer = text.replace("\r\n", "\n").rpartition("</think>")
    if not sep:
        raise ParseError("no </think> (reasoning unfinished or truncated)")
    blocks = _FENCE.findall(answer)
    if not blocks:
        raise ParseError("no python code block after </think>")
    # the longest block is the solution; short ones are usage examples
    code = max(blocks, key=len).strip("\n")
    if not code.strip():
        raise ParseError("empty code block")
    return code + "\n"
