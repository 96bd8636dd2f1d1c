"""An exception nothing else caught, outside GraphQL (which masks its own as INTERNAL), is
answered 500 in GraphQL's error shape with the request's id: never a traceback, never the
exception's text; the traceback goes to the log under the same id."""

from __future__ import annotations

import logging

import httpx
import pytest

from api import ops
from api.app import create_app
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

SECRET_DETAIL = "postgresql://promessa:hunter2@db/promessa"


async def test_an_unexpected_failure_outside_graphql_answers_500_with_the_request_id_only(
        db_url, monkeypatch, caplog):
    async def broken(_request):
        raise RuntimeError(f"could not reach {SECRET_DETAIL}")

    monkeypatch.setattr(ops, "readyz", broken)
    app = create_app(make_settings(db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)  # raises what the app lets escape
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with caplog.at_level(logging.ERROR, logger="promessa.errors"):
                answer = await client.get("/readyz", headers={"X-Request-ID": "probe-500"})
            still = await client.get("/healthz")

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] == "probe-500"
    assert answer.json() == {"errors": [{"message": "Unexpected error", "extensions": {
        "code": "INTERNAL", "requestId": "probe-500"}}]}
    assert "hunter2" not in answer.text and "Traceback" not in answer.text
    [logged] = [r for r in caplog.records if r.name == "promessa.errors"]
    assert "probe-500" in logged.getMessage() and logged.exc_info is not None
    assert still.status_code == 200  # the server goes on
