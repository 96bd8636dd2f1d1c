"""The HTTP protocol `promessa serve` runs: uvicorn's httptools protocol with a deadline for
every request head.

Uvicorn times out a connection only while it idles between requests (keep-alive); one that
sends part of a request head and then nothing is held open for ever, and ~21 000 of them
exhausted a process's file descriptors (/healthz stopped answering). Here each request head
must be complete within `head_timeout` seconds of its first byte (of the connection, for the
first), or the connection is closed. With the connection cap (`limit_concurrency`, answered
503 past it) a flood of slow clients costs a bounded number of sockets for a bounded time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadTimeoutProtocol(HttpToolsProtocol):
    head_timeout = 10.0  # seconds; set from PROMESSA_HTTP_HEAD_TIMEOUT_SECONDS at start-up

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:  # a new request head begins
            self._arm()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.head_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        self.transport.close()


def configure(*, head_timeout: float) -> dict[str, Any]:
    """uvicorn.run's protocol argument, with the head deadline set (in this process: each
    worker process calls it again from the app factory)."""
    HeadTimeoutProtocol.head_timeout = head_timeout
    return {"http": HeadTimeoutProtocol}
