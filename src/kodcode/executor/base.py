"""Records of the executor interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

VERDICTS = ("pass", "fail", "timeout", "error", "crash")
TestKind = Literal["pytest", "stdio"]


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 30.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 16
    max_output_kb: int = 64

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attempt:
    """One solution and its tests. ``attempt_id`` only names the attempt in results."""

    attempt_id: str
    solution: str
    tests: str
    kind: TestKind = "pytest"

    def content(self) -> dict[str, str]:
        return {"solution": self.solution, "tests": self.tests, "kind": self.kind}


class UnreadableFile(ValueError):
    """A file of an attempt folder that is not UTF-8 text (or cannot be read): that attempt gets
    an ``error`` verdict naming the file; the others still run."""


def read_attempt_file(path: Path, name: str) -> str:
    """The text of one attempt file; ``name`` is how the verdict's reason calls it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{name} cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UnreadableFile(f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column "
                             f"{column}); save it as UTF-8") from None


@dataclass
class ExecResult:
    verdict: str  # one of VERDICTS
    collected: int = 0
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    coverage: float | None = None  # percent of solution lines executed
    duration_s: float = 0.0
    output: str = ""  # bounded excerpt
    engine: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExecResult":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
