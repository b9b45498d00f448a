"""Build the httpx transport the OpenAI backend uses: one keep-alive connection per worker.

Before each request on a kept-alive connection, httpcore asks the stream whether the
server closed it (``is_readable``); through anyio that builds the socket's whole
attribute table, including a ``getpeername`` system call, every time. Where system calls
are slow (sandboxes, some VMs) that was the largest single cost per request. The stream
below looks the raw socket up once per connection instead. This touches private parts
of httpx/httpcore, so any mismatch falls back to the stock transport: it only ever
changes speed, never behaviour.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


def _fast_backend() -> Any | None:
    try:
        from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
        from httpcore._utils import is_socket_readable
    except ImportError:  # another httpcore layout: use the stock backend
        return None

    class FastStream(AnyIOStream):
        _raw_socket: Any = None

        def get_extra_info(self, info: str) -> Any:
            if info == "is_readable":
                if self._raw_socket is None:
                    self._raw_socket = super().get_extra_info("socket")
                return is_socket_readable(self._raw_socket)
            return super().get_extra_info(info)

        async def start_tls(self, *args: Any, **kwargs: Any) -> Any:
            tls = await super().start_tls(*args, **kwargs)
            return FastStream(tls._stream)

    class FastBackend(AnyIOBackend):
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            stream = await super().connect_tcp(*args, **kwargs)
            return FastStream(stream._stream)

    return FastBackend()


_BACKEND: list = []


def transport(ssl_context: Any, connections: int = 1) -> httpx.AsyncHTTPTransport:
    t = httpx.AsyncHTTPTransport(
        verify=ssl_context, limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    )
    if not _BACKEND:
        _BACKEND.append(_fast_backend())
    backend = _BACKEND[0]
    pool = getattr(t, "_pool", None)
    if backend is not None and pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = backend
    return t
