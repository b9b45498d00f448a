"""Running untrusted solutions against untrusted tests: one interface for every stage.

``run_attempts`` executes a batch in warm, sandboxed workers (see docs/executor.md) and
stores each verdict under a content hash, so that nothing runs twice.
"""

from .base import VERDICTS, Attempt, ExecResult, Limits
from .engines import ENGINES, EngineUnavailable
from .service import run_attempts

__all__ = ["Attempt", "ENGINES", "EngineUnavailable", "ExecResult", "Limits", "VERDICTS", "run_attempts"]
