"""The Starlette app: routes, middleware, and a lifespan that opens what api/bootstrap.py
builds (the composition root) and closes it."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api import bootstrap, http, invoices, labels, ops, pages, parcels
from api.auth import InvalidToken, principal_from_header
from api.clock import SystemClock
from api.context import Context, Dependencies, make_loaders
from api.integration.runner import Consumers
from api.integration.timers import Timers
from api.notifications.optout import optout
from api.observability import RequestLog
from api.payments.providers import Registry
from api.prometheus import Metrics, metrics_endpoint
from api.schema.root import build_schema
from api.settings import Settings
from api.ws import PromessaTransportWSHandler, authenticate_connection
from domain.access import ANONYMOUS
from domain.kernel.ports import Clock
from persistence.consumers import SqlConsumers

log = logging.getLogger("promessa")


class PromessaGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: principal from the bearer token.

    Subscriptions speak graphql-transport-ws only (the legacy graphql-ws protocol is refused
    with 4406); the token comes in connection_init, checked in `on_ws_connect`. HTTP requests
    follow GraphQL over HTTP (see api/http.py): what strawberry alone answers differently —
    415 for other content types, 406, 405 for a mutation over GET, 4xx with the new media
    type, errors as GraphQL-shaped JSON — is done here.
    """

    graphql_transport_ws_handler_class = PromessaTransportWSHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(limits=settings.limits, introspection=settings.introspection_enabled,
                         production=settings.production),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
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
                                              secret=self.settings.jwt_secret,
                                              max_days=self.settings.token_max_days)
        except InvalidToken as exc:
            if not isinstance(request, WebSocket):
                raise CodedHTTPException(401, str(exc), "UNAUTHENTICATED") from None
            principal, header_error = ANONYMOUS, str(exc)  # refused at connection_init
        return Context(principal=principal, deps=deps, shared_loaders=make_loaders(deps),
                       request=request, response=response, header_error=header_error)

    async def on_ws_connect(self, context: Context):
        authenticate_connection(context, secret=self.settings.jwt_secret,
                                max_days=self.settings.token_max_days)
        return UNSET

    async def run(self, request, context=UNSET, root_value=UNSET):
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        media = http.negotiate(request.headers.get("accept"))
        if request.method == "GET" and "query" not in request.query_params and (
                "text/html" in request.headers.get("accept", "")):
            return await super().run(request, context, root_value)  # GraphiQL (or 404)
        if media is None:
            return http.error_response(406, f"answers are {http.GRAPHQL_RESPONSE} or "
                                            f"{http.JSON}", "NOT_ACCEPTABLE")
        if request.method == "POST":
            coding = request.headers.get("content-encoding", "identity").strip().lower()
            if coding not in ("", "identity"):
                return http.error_response(
                    415, "send the request body without a Content-Encoding (identity)",
                    "UNSUPPORTED_MEDIA_TYPE", media=media)
            content_type, params = http.media_type(request.headers.get("content-type"))
            if content_type != http.JSON or params.get("charset", "utf-8") != "utf-8":
                return http.error_response(
                    415, f"send the request as {http.JSON} (UTF-8)", "UNSUPPORTED_MEDIA_TYPE",
                    media=media)
        request.state.graphql_status = None
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            return _refused(request, exc, media)
        if media == http.GRAPHQL_RESPONSE and response.media_type == http.JSON:
            response.headers["content-type"] = f"{http.GRAPHQL_RESPONSE}; charset=utf-8"
            response.status_code = request.state.graphql_status or response.status_code
        return response

    async def process_result(self, request, result):
        answer = await super().process_result(request, result)
        # a request error (refused before execution): the spec's response has no `data`
        if answer.get("data") is None and result.errors and all(
                e.path is None for e in result.errors):
            answer.pop("data", None)
            request.state.graphql_status = http.status_of(answer)
        return answer

    def decode_json(self, data: str | bytes) -> object:
        """JSON as the spec allows it (UTF-8); bytes in another encoding, or nesting deeper than
        the parser goes, are malformed JSON like any other — a 400 over HTTP, 4400 over a
        WebSocket — never an unexpected error."""
        try:
            # strictly UTF-8: json.loads alone would also take UTF-16 and UTF-32 bytes
            return super().decode_json(data.decode() if isinstance(data, bytes) else data)
        except (UnicodeDecodeError, RecursionError) as exc:
            reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "nested too deep"
            raise json.JSONDecodeError(f"the JSON is {reason}", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # strawberry would fail on it with a 500
            raise CodedHTTPException(400, "the body must be a JSON object", "BAD_REQUEST")
        return parsed

    def _validate_batch_request(self, request_data, protocol) -> None:
        raise CodedHTTPException(400, "batched operations are not supported: send one "
                                      "operation per request", "BATCH_NOT_SUPPORTED")


class CodedHTTPException(HTTPException):
    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED"}


def _refused(request: Request, exc: HTTPException, media: str) -> Response:
    """strawberry's refusals (plain text there) as GraphQL-shaped JSON with a code."""
    if isinstance(exc.__cause__, InvalidOperationTypeError) and request.method == "GET":
        return http.error_response(405, "GET runs queries only; send mutations with POST",
                                   "METHOD_NOT_ALLOWED", media=media, headers={"Allow": "POST"})
    code = getattr(exc, "code", None) or HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return http.error_response(exc.status_code, exc.reason, code, media=media, headers=headers)


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    clock = clock or SystemClock()
    graphql = PromessaGraphQL(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        realtime = bootstrap.open_realtime(settings, clock=clock)
        local: list[Consumers] = []  # a commit here starts the consumers' round at once

        def committed(heads: dict[str, int]) -> None:
            realtime.committed(heads)
            for consumers in local:
                consumers.poke()

        db, deps = await bootstrap.open_dependencies(settings, clock=clock,
                                                     on_commit=committed, metrics=metrics)
        bootstrap.bind_realtime(realtime, db)
        guards = bootstrap.open_guards(settings)
        deps = dataclasses.replace(deps, realtime=realtime, guards=guards)
        app.state.deps, app.state.db = deps, db
        app.state.fanout, app.state.realtime = realtime.fanout, realtime
        consumers = bootstrap.open_consumers(settings, db, clock=clock, metrics=metrics,
                                             deps=deps)
        app.state.consumer_store, app.state.consumer_names = SqlConsumers(db), consumers.names
        timers = Timers(deps.app)
        try:
            await realtime.start()
            if settings.demo:
                from api import demo

                await demo.seed(deps)
            if settings.consumers:
                await consumers.start()
                await timers.start()
                local.append(consumers)
                realtime.heard.append(consumers.poke)  # commits in other processes too
            yield
        finally:
            await timers.stop()
            await consumers.stop()
            await realtime.stop()
            await guards.buckets.close()
            if isinstance(deps.providers, Registry):
                await deps.providers.aclose()
            await db.dispose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    app = Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/returns/{number}/label.pdf", labels.return_label),
        Route("/documents/{number}.pdf", invoices.document_pdf),
        Route("/fulfillments/{id}/{paper}.pdf", parcels.paper_pdf),
        Route("/notifications/optout", optout, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", ops.readyz),
        Route("/metrics", metrics_endpoint),
        Route("/", home),
        *pages.routes(),
    ], lifespan=lifespan, middleware=[Middleware(RequestLog), *middleware(settings, graphql)])
    app.state.settings, app.state.metrics = settings, metrics
    return app


def middleware(settings: Settings, graphql: PromessaGraphQL) -> list[Middleware]:
    """Security headers on every answer, CORS only for configured origins, the body limit, and
    the last-resort answer to what a route let escape."""
    csp = http.ide_csp(graphql.graphql_ide_html) if graphql.graphql_ide else http.API_CSP
    cors = [Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["GET", "POST"],
                       allow_headers=["authorization", "content-type", "accept"], max_age=600)]
    return [Middleware(http.SecurityHeaders, html_csp=csp, hsts=settings.production),
            *(cors if settings.cors_origins else ()),
            Middleware(http.LastResort),  # around the body limit, which answers its own
            Middleware(http.BodyLimit, max_bytes=settings.max_body_bytes,
                       timeout=settings.http_body_timeout_seconds)]
