"""The Starlette app and its lifespan: the composition root."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import InvalidToken, principal_from_header
from api.clock import SystemClock
from api.context import Context, Dependencies, make_loaders
from api.fanout import Fanout
from api.schema.root import build_schema
from api.settings import Settings
from domain.engine import SourcingEngine
from domain.ports import Clock
from domain.service_desk import Policy
from persistence import migrate
from persistence.db import Database, retrying
from persistence.reads import SqlReader
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("promessa")


class PromessaGraphQL(GraphQL):
    """Strawberry's ASGI app with our context: principal from the bearer token."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(build_schema(),
                         graphql_ide=None if settings.production else "graphiql")
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response) -> Context:
        deps: Dependencies = request.app.state.deps
        try:
            principal = principal_from_header(request.headers.get("authorization"),
                                              secret=self.settings.jwt_secret)
        except InvalidToken as exc:
            raise HTTPException(401, str(exc)) from None
        return Context(principal=principal, deps=deps, loaders=make_loaders(deps),
                       request=request, response=response)


async def open_dependencies(settings: Settings, *, clock: Clock) -> tuple[Database, Dependencies]:
    """Open the database (migrating the embedded one) and bind the ports to it."""
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    try:
        if settings.embedded:
            await migrate.upgrade(db.writer)
        elif await migrate.current_revision(db.writer) != migrate.head_revision():
            raise RuntimeError("the database is not migrated to head: run `promessa migrate`")
    except BaseException:
        await db.dispose()
        raise
    policy = Policy(customer_cancel_window=timedelta(minutes=settings.customer_cancel_minutes))
    deps = Dependencies(reader=SqlReader(db), uow=lambda: SqlUnitOfWork(db, clock), clock=clock,
                        sourcer=SourcingEngine(), retrying=retrying,
                        promise_key=promise_key(settings.jwt_secret), policy=policy)
    return db, deps


def promise_key(secret: str) -> bytes:
    """The key delivery-promise option ids are sealed with, derived from the server secret."""
    return hashlib.sha256(b"promessa/delivery-promise/v1\x00" + secret.encode()).digest()


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    clock = clock or SystemClock()
    graphql = PromessaGraphQL(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db, deps = await open_dependencies(settings, clock=clock)
        fanout = Fanout(settings.broadcast_url)
        app.state.deps, app.state.db, app.state.fanout = deps, db, fanout
        try:
            await fanout.open()
            if settings.demo:
                from api import demo

                await demo.seed(deps)
            yield
        finally:
            await fanout.close()
            await db.dispose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    return Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/", home),
    ], lifespan=lifespan)
