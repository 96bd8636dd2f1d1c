"""The Starlette app and its lifespan: the composition root."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api import labels, ops, pages
from api.auth import InvalidToken, principal_from_header
from api.clock import SystemClock
from api.context import Context, Dependencies, make_loaders
from api.fanout import Fanout
from api.observability import RequestLog
from api.prometheus import Metrics, counting_reservations, metrics_endpoint
from api.realtime import Realtime
from api.schema.root import build_schema
from api.settings import Settings
from api.ws import PromessaTransportWSHandler, authenticate_connection
from domain.access import ANONYMOUS
from domain.engine import SourcingEngine
from domain.ports import Clock
from domain.service_desk import Policy
from persistence import migrate
from persistence.db import Database, retrying
from persistence.outbox import SqlOutbox
from persistence.reads import SqlReader
from persistence.uow import CommitHook, SqlUnitOfWork

log = logging.getLogger("promessa")


class PromessaGraphQL(GraphQL):
    """Strawberry's ASGI app with our context: principal from the bearer token.

    Subscriptions speak graphql-transport-ws only (the legacy graphql-ws protocol is refused
    with 4406); the token comes in connection_init, checked in `on_ws_connect`.
    """

    graphql_transport_ws_handler_class = PromessaTransportWSHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(), graphql_ide=None if settings.production else "graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
            allowed_origins=settings.allowed_origins)
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response) -> Context:
        deps: Dependencies = request.app.state.deps
        header_error = None
        try:
            principal = principal_from_header(request.headers.get("authorization"),
                                              secret=self.settings.jwt_secret)
        except InvalidToken as exc:
            if not isinstance(request, WebSocket):
                raise HTTPException(401, str(exc)) from None
            principal, header_error = ANONYMOUS, str(exc)  # refused at connection_init
        return Context(principal=principal, deps=deps, loaders=make_loaders(deps),
                       request=request, response=response, header_error=header_error)

    async def on_ws_connect(self, context: Context):
        authenticate_connection(context, secret=self.settings.jwt_secret)
        return UNSET


async def open_dependencies(settings: Settings, *, clock: Clock,
                            on_commit: CommitHook | None = None,
                            metrics: Metrics | None = None) -> tuple[Database, Dependencies]:
    """Open the database (migrating the embedded one) and bind the ports to it; with
    `metrics`, retries and reservation conflicts are counted."""
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
    uow_class, retry = SqlUnitOfWork, retrying
    if metrics is not None:
        uow_class = counting_reservations(SqlUnitOfWork, metrics.reservation_conflicts)
        retry = functools.partial(retrying, on_retry=metrics.db_retries.inc)
    deps = Dependencies(reader=SqlReader(db),
                        uow=lambda: uow_class(db, clock, on_commit=on_commit), clock=clock,
                        sourcer=SourcingEngine(), retrying=retry,
                        promise_key=promise_key(settings.jwt_secret), policy=policy,
                        label_key=labels.label_key(settings.jwt_secret),
                        label_ttl=timedelta(hours=settings.return_label_hours))
    return db, deps


def promise_key(secret: str) -> bytes:
    """The key delivery-promise option ids are sealed with, derived from the server secret."""
    return hashlib.sha256(b"promessa/delivery-promise/v1\x00" + secret.encode()).digest()


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    clock = clock or SystemClock()
    graphql = PromessaGraphQL(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        beat = settings.fanout_heartbeat_seconds
        fanout = Fanout(settings.broadcast_url, heartbeat_seconds=beat,
                        heartbeat_timeout=3 * beat)
        realtime = Realtime(fanout, clock=clock,
                            retention=timedelta(hours=settings.outbox_retention_hours),
                            poll_seconds=settings.realtime_poll_seconds,
                            queue_limit=settings.subscriber_queue)
        db, deps = await open_dependencies(settings, clock=clock, on_commit=realtime.committed,
                                           metrics=metrics)
        realtime.bind(SqlOutbox(db))
        deps = dataclasses.replace(deps, realtime=realtime)
        app.state.deps, app.state.db = deps, db
        app.state.fanout, app.state.realtime = fanout, realtime
        try:
            await realtime.start()
            if settings.demo:
                from api import demo

                await demo.seed(deps)
            yield
        finally:
            await realtime.stop()
            await db.dispose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    app = Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/returns/{number}/label.pdf", labels.return_label),
        Route("/healthz", healthz),
        Route("/readyz", ops.readyz),
        Route("/metrics", metrics_endpoint),
        Route("/", home),
        *pages.routes(),
    ], lifespan=lifespan, middleware=[Middleware(RequestLog)])
    app.state.settings, app.state.metrics = settings, metrics
    return app
