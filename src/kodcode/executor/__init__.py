"""Running untrusted solutions against untrusted tests: one interface for every stage."""

from .base import Attempt, ExecResult, Limits, VERDICTS
from .service import run_attempts

__all__ = ["Attempt", "ExecResult", "Limits", "VERDICTS", "run_attempts"]
