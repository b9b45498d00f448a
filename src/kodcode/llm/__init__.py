"""The LLM layer: requests, backends behind one interface, and the response store."""

from .request import Request, Response

__all__ = ["Request", "Response"]
