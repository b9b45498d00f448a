"""Records of the executor interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
