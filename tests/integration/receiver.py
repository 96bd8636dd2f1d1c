"""A real HTTP webhook receiver for tests: records every request, fails on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import serve


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """`answer(request_number)` decides each status (1-based over all requests)."""

    answer: Callable[[int], int] = lambda _n: 204
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        status = self.answer(len(self.requests) + 1)
        self.requests.append(Received(dict(request.headers), body, status))
        self.arrived.set()
        return Response(status_code=status)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every accepted body, checked as a receiver would with the reference library."""
        hook = Webhook(secret)
        return [hook.verify(r.body, r.headers) for r in self.accepted]

    async def wait_for(self, done: Callable[[Receiver], bool], seconds: float = 30) -> None:
        async with asyncio.timeout(seconds):
            while not done(self):
                self.arrived.clear()
                try:
                    await asyncio.wait_for(self.arrived.wait(), 0.5)
                except TimeoutError:
                    pass


@asynccontextmanager
async def receiver(answer: Callable[[int], int] = lambda _n: 204) -> AsyncIterator[Receiver]:
    r = Receiver(answer)
    app = Starlette(routes=[Route("/hook", r.handle, methods=["POST"])])
    async with serve(app) as url:
        r.url = f"{url}/hook"
        yield r
