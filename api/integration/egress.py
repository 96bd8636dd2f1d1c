"""An HTTP client for calling other people's servers from inside the network.

In production a webhook URL must not reach loopback, private, link-local (cloud metadata at
169.254.169.254), shared or reserved addresses. The check runs where the connection is made,
on the addresses DNS gave for this very connection, so a name that resolves to a public
address at creation and to 127.0.0.1 later (DNS rebinding) is still refused. TLS keeps the
URL's host name for SNI and certificate checks. Redirects are not followed (httpx's default),
proxies from the environment are ignored, and answers are read up to a small cap.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

MAX_ANSWER = 4096  # bytes of a receiver's answer kept for the delivery log


# IPv6 ranges that carry an IPv4 address a gateway may forward to (NAT64, 6to4, IPv4-
# compatible): refused outright rather than trusted to reach only what they embed
EMBEDDING = tuple(ipaddress.ip_network(n) for n in (
    "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "::ffff:0:0:0/96"))


def public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in EMBEDDING):
            return False
    return ip.is_global and not ip.is_multicast


class Refused(httpcore.ConnectError):
    """The URL's host resolves to an address this deployment does not call."""


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(public(a) for a in addresses):
            raise Refused(f"{host} resolves to a non-public address; set "
                          "PROMESSA_WEBHOOK_ALLOW_PRIVATE=1 to allow it")
        return await self._inner.connect_tcp(addresses[0], port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise Refused("unix sockets are not called")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def client(*, allow_private: bool, timeout: float, connections: int = 100) -> httpx.AsyncClient:
    """A client for outside receivers; `allow_private` (outside production, or when an
    operator says so) lets a developer's local receiver be called."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    if not allow_private:
        # httpx builds its pool without a way to pass the network backend: rebuild it with
        # the guarded one (the same settings otherwise)
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=connections, max_keepalive_connections=connections,
            keepalive_expiry=5.0, network_backend=_GuardedBackend())
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             trust_env=False, headers={"user-agent": "Promessa-Webhooks/1"})


async def post(http: httpx.AsyncClient, url: str, *, body: bytes,
               headers: dict[str, str]) -> tuple[int, str]:
    """POST and read at most MAX_ANSWER bytes of the answer: (status, the start of it).
    Raises `Refused` when the address may not be called."""
    try:
        async with http.stream("POST", url, content=body, headers={
                **headers, "content-type": "application/json"}) as answer:
            kept = b""
            async for chunk in answer.aiter_raw():
                kept += chunk
                if len(kept) >= MAX_ANSWER:
                    break
            return answer.status_code, kept[:MAX_ANSWER].decode("utf-8", "replace")
    except httpx.ConnectError as exc:  # httpx wraps the backend's refusal: unwrap it
        if isinstance(exc.__cause__, Refused):
            raise exc.__cause__ from None
        raise
