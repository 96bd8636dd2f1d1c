"""`promessa serve` closes a connection whose request head does not arrive in time
(PROMESSA_HTTP_HEAD_TIMEOUT_SECONDS): a client that sends half a head and then nothing no
longer holds a socket for ever (issue 17, item 11); nor one that sends a whole head and then
trickles its body (PROMESSA_HTTP_BODY_TIMEOUT_SECONDS: 408, connection closed). A real server
process, raw sockets."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from tests.processes import free_port, server_process

pytestmark = pytest.mark.anyio
HALF_A_HEAD = b"GET /healthz HTTP/1.1\r\nHost: promessa\r\nX-Slow: "
WHOLE = b"GET /healthz HTTP/1.1\r\nHost: promessa\r\n\r\n"


async def closed_after(reader: asyncio.StreamReader, *, within: float) -> float:
    """Seconds until the server closed the connection (it sends nothing first)."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        assert await reader.read() == b""
    return time.monotonic() - start


def serve(tmp_path, port: int, **env: str) -> tuple[list[str], dict[str, str]]:
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
               str(port)]
    return command, {"PROMESSA_DATABASE_URL": f"sqlite:///{tmp_path / 'promessa.db'}",
                     "PROMESSA_CONSUMERS": "off", "PROMESSA_LOG_FORMAT": "text", **env}


async def test_a_request_head_that_never_completes_is_cut_off(tmp_path) -> None:
    port = free_port()
    command, env = serve(tmp_path, port, PROMESSA_HTTP_HEAD_TIMEOUT_SECONDS="0.5")
    async with server_process(command, port, env):
        # half a head, then silence: closed after the deadline, not held open
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HALF_A_HEAD)
        await writer.drain()
        assert 0.3 < await closed_after(reader, within=5) < 5
        writer.close()
        # a whole request is answered; the same connection's next head gets the deadline too
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(WHOLE)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
        writer.write(HALF_A_HEAD)
        await writer.drain()
        assert await closed_after(reader, within=5) < 5
        writer.close()


async def test_a_request_body_that_never_completes_is_answered_408_and_cut_off(tmp_path
                                                                              ) -> None:
    port = free_port()
    command, env = serve(tmp_path, port, PROMESSA_HTTP_HEAD_TIMEOUT_SECONDS="0.5",
                         PROMESSA_HTTP_BODY_TIMEOUT_SECONDS="1")
    async with server_process(command, port, env):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /graphql HTTP/1.1\r\nHost: promessa\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     b'{"query": ')  # a whole head, and a tenth of the body it announced
        await writer.drain()
        start = time.monotonic()
        async with asyncio.timeout(5):
            answer = await reader.read()  # the answer, then the end of the connection
        assert 0.8 < time.monotonic() - start < 5
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert b"x-content-type-options: nosniff" in head.lower()
        assert b'"code":"REQUEST_TIMEOUT"' in body
        writer.close()
