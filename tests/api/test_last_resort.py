"""An exception nothing else caught, outside GraphQL (which masks its own as INTERNAL), is
answered 500 in GraphQL's error shape with the request's id and the headers of every answer:
never a traceback, never the exception's text; the traceback goes to the log under the same
id. These run the app without a database: nothing here reads one."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.routing import Route

from api import http
from api.observability import RequestLog

pytestmark = pytest.mark.anyio

SECRET_DETAIL = "postgresql://promessa:hunter2@db/promessa"


async def broken(_request):
    raise RuntimeError(f"could not reach {SECRET_DETAIL}")


async def left(_request):
    raise ClientDisconnect()


async def halfway(_request):
    async def body():
        yield b"{"
        raise RuntimeError("the stream broke")
    return StreamingResponse(body(), media_type="application/json")


def app_with(*routes: Route) -> Starlette:
    """The app's own middleware, in its order (api/app.py), around routes that fail."""
    return Starlette(routes=list(routes), middleware=[
        Middleware(RequestLog), Middleware(http.SecurityHeaders, html_csp=http.API_CSP,
                                           hsts=True),
        Middleware(http.LastResort), Middleware(http.BodyLimit, max_bytes=1000, timeout=5.0)])


async def test_an_unexpected_failure_outside_graphql_answers_500_with_the_request_id_only(
        caplog):
    app = app_with(Route("/broken", broken), Route("/left", left))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # raises escapes
                                 base_url="http://test") as client:
        with caplog.at_level(logging.ERROR, logger="promessa.errors"):
            answer = await client.get("/broken", headers={"X-Request-ID": "probe-500"})

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] == "probe-500"
    assert answer.json() == {"errors": [{"message": "Unexpected error", "extensions": {
        "code": "INTERNAL", "requestId": "probe-500"}}]}
    assert "hunter2" not in answer.text and "Traceback" not in answer.text
    # the headers every answer carries (README: security headers)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == http.API_CSP
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    [logged] = [r for r in caplog.records if r.name == "promessa.errors"]
    assert "probe-500" in logged.getMessage() and logged.exc_info is not None


async def asgi_get(app: Starlette, path: str) -> tuple[list[dict], BaseException | None]:
    """The messages the app sends for one GET, and what it raised, straight over ASGI."""
    sent: list[dict] = []
    asked = [{"type": "http.request", "body": b"", "more_body": False}]
    done = asyncio.Event()

    async def receive() -> dict:
        if asked:
            return asked.pop()
        await done.wait()  # the client is there until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [], "client": ("1.2.3.4", 5),
             "server": ("test", 80)}
    try:
        await asyncio.wait_for(app(scope, receive, send), 30)
    except Exception as exc:  # what the server would see
        return sent, exc
    finally:
        done.set()
    return sent, None


async def test_a_client_that_left_gets_nothing_and_a_started_answer_is_not_answered_twice(
        caplog):
    app = app_with(Route("/left", left), Route("/halfway", halfway))
    with caplog.at_level(logging.ERROR, logger="promessa.errors"):
        gone, raised = await asgi_get(app, "/left")
        assert (gone, raised) == ([], None)  # nobody to answer: no 500 made up, no error
        assert [r for r in caplog.records if r.name == "promessa.errors"] == []

        started, raised = await asgi_get(app, "/halfway")
    # the answer had started: one start (200), and the server sees the exception and closes
    assert [m["status"] for m in started if m["type"] == "http.response.start"] == [200]
    assert isinstance(raised, RuntimeError) and "the stream broke" in str(raised)


async def test_the_app_has_the_last_resort_inside_the_headers_around_the_body_limit(api):
    assert [m.cls for m in api.app.user_middleware] == [
        RequestLog, http.SecurityHeaders, http.LastResort, http.BodyLimit]
