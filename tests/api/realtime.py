"""Helpers for subscription tests: a real graphql-transport-ws client (gql) and a follower
that collects events in the background while the test makes changes."""

from __future__ import annotations

import asyncio
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

GRAPHQL_TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL


def ws_client(url: str, token: str | None = None) -> Client:
    """A gql client speaking graphql-transport-ws, the token in connection_init."""
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(transport=WebsocketsTransport(
        url=url, subprotocols=[GRAPHQL_TRANSPORT_WS], init_payload=payload, connect_timeout=10,
        ack_timeout=10, close_timeout=5))


class Follower:
    """One subscription on an open gql session; `take(n)` returns its next n events."""

    def __init__(self, session: Any, document: str, variables: dict[str, Any]) -> None:
        self.request = GraphQLRequest(document, variable_values=variables)
        self.session = session
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Follower:
        self.task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        try:
            async for result in self.session.subscribe(self.request):
                await self.queue.put(result)
            await self.queue.put(StopAsyncIteration())
        except TransportQueryError as exc:
            await self.queue.put(exc)

    async def take(self, n: int, *, within: float = 10) -> list[dict[str, Any]]:
        got = []
        async with asyncio.timeout(within):
            while len(got) < n:
                item = await self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                got.append(next(iter(item.values())))
        return got

    async def nothing_more(self, *, wait: float = 0.5) -> None:
        """Nothing else arrives within `wait` seconds."""
        await asyncio.sleep(wait)
        assert self.queue.empty(), self.queue.get_nowait()


async def refusal(url: str, token: str | None, document: str,
                  variables: dict[str, Any]) -> dict[str, Any]:
    """The error a subscription is refused with (it must be refused)."""
    async with ws_client(url, token) as session:
        async with asyncio.timeout(10):
            try:
                async for result in session.subscribe(GraphQLRequest(
                        document, variable_values=variables)):
                    raise AssertionError(f"not refused: {result}")
            except TransportQueryError as exc:
                assert exc.errors is not None and len(exc.errors) == 1, exc.errors
                return exc.errors[0]
    raise AssertionError("the subscription completed without an error")


async def until(condition, *, within: float = 10) -> None:
    """Wait until `condition()` is true; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if condition():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still not true after {within} s")
        await asyncio.sleep(0.01)
