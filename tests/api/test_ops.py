"""Operations: /readyz for orchestrators, the request id, and one JSON log line per request."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from api import settings as settings_module
from api.app import create_app
from api.observability import JsonFormatter, mask_email, redact
from api.settings import SettingsError
from persistence import migrate
from persistence.db import Database
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import _pg_admin, make_settings, pg_url_for, seed_contract_network

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("PROMESSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def client_for(db_url: str, clock, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_ready_when_the_database_the_fanout_and_the_schema_are(api):
    response = await api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["migrations"] == {"ok": True, "current": migrate.head_revision(),
                                            "head": migrate.head_revision()}
    assert body["checks"]["fanout"] == {"ok": True, "backend": "memory"}
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def own_db_url(request, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own (migrations will move under it), migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    else:
        request.getfixturevalue("pg_database")  # skips when PostgreSQL is unreachable
        name = f"promessa_ready_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = pg_url_for(name)
    db = Database(url)
    try:
        await migrate.upgrade(db.writer)
    finally:
        await db.dispose()
    yield url
    if request.param == "postgres":
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_not_ready_when_the_database_is_behind_the_migration_head(own_db_url, clock):
    async with client_for(own_db_url, clock) as client:
        assert (await client.get("/readyz")).status_code == 200
        db = Database(own_db_url)
        try:
            await migrate.downgrade(db.writer, "0002a")  # an older revision than this code's
        finally:
            await db.dispose()
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == {"ok": False, "current": "0002a",
                                            "head": migrate.head_revision()}
    assert body["checks"]["database"]["ok"] is True


async def test_not_ready_while_the_redis_fanout_is_unreachable(db_url, clock):
    # port 1 on the loopback: nothing listens there, connecting is refused at once
    async with client_for(db_url, clock, broadcast_url="redis://127.0.0.1:1/0") as client:
        response = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["fanout"]
    assert body["checks"]["fanout"] == {"ok": False, "backend": "redis"}


@pytest.mark.redis
async def test_ready_with_a_reachable_redis_fanout(db_url, clock):
    async with client_for(db_url, clock, broadcast_url=REDIS_URL,
                          fanout_heartbeat_seconds=0.1) as client:
        for _ in range(100):  # the listener proves itself with its first heartbeat
            response = await client.get("/readyz")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.05)
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["fanout"] == {"ok": True, "backend": "redis"}


# --- request id --------------------------------------------------------------------------------

async def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(api):
    given = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                  headers={"X-Request-ID": "lb-7f3a.42:9"})
    assert given.headers["x-request-id"] == "lb-7f3a.42:9"
    for bad in ("has spaces in it", "x" * 129, "<script>"):
        replaced = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                         headers={"X-Request-ID": bad})
        assert replaced.headers["x-request-id"] != bad
        assert len(replaced.headers["x-request-id"]) == 16
    fresh = [(await api.client.get("/healthz")).headers["x-request-id"] for _ in range(2)]
    assert fresh[0] != fresh[1]


async def test_a_masked_error_carries_the_request_id_of_the_response_header(api, caplog):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("driver said: password=hunter2")

    api.app.state.deps.reader.availability = broken
    with caplog.at_level(logging.INFO):
        response = await api.client.post("/graphql", json={
            "query": '{ availability(skus: ["X"], channel: "web") { sku } }'},
            headers={"X-Request-ID": "trace-0001"})
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "trace-0001"}
    assert response.headers["x-request-id"] == "trace-0001"
    assert "hunter2" in caplog.text and "trace-0001" in caplog.text
    [line] = [x for x in _access_lines(caplog) if x["requestId"] == "trace-0001"]
    assert (line["outcome"], line["operation"]) == ("error", None)
    metrics = (await api.client.get("/metrics")).text
    assert 'promessa_graphql_requests_total{operation="anonymous",outcome="error"} 1.0' in metrics


# --- logs --------------------------------------------------------------------------------------

def _access_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records
            if r.name == "promessa.access"]


async def test_one_json_line_per_request_without_email_address_or_token(api, tokens, caplog):
    await seed_contract_network(api, tokens)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="promessa.access"):
        response = await api.client.post(
            "/graphql", headers={"authorization": f"Bearer {tokens['ada']}",
                                 "X-Request-ID": "checkout-1"},
            json={"query": PLACE.replace("mutation(", "mutation Checkout("),
                  "variables": {"input": order_input("log-key-0001")}})
    assert response.json()["data"]["placeOrder"]["userErrors"] == []
    [line] = _access_lines(caplog)
    assert line["requestId"] == "checkout-1"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["role"], line["outcome"]) == ("Checkout", "customer", "ok")
    assert line["user"] == "a***@example.com"
    assert isinstance(line["durationMs"], float) and line["durationMs"] > 0
    text = json.dumps(line) + caplog.text
    for secret in ("ada@example.com", "Via Nazionale", "00184", "Ada Lovelace",
                   tokens["ada"]):
        assert secret not in text


async def test_refusals_and_malformed_requests_are_logged_as_user_errors(api, tokens, caplog):
    await seed_contract_network(api, tokens)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="promessa.access"):
        await api.post(PLACE, {"input": order_input(lines=[{"sku": "NOPE", "quantity": 1}])})
        await api.client.post("/graphql", json={"query": "{ nope }"})
        await api.client.post("/graphql", json={"query": "{ __typename }"},
                              headers={"authorization": "Bearer not-a-token"})
    lines = _access_lines(caplog)
    assert [(x["outcome"], x["role"], x["status"]) for x in lines] == [
        ("user_error", "anonymous", 200), ("user_error", "anonymous", 200),
        ("user_error", None, 401)]


def test_masking_keeps_a_hint_and_drops_the_rest():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email(None) is None
    assert redact("mail bob@example.org with Bearer abc.def.ghi") == \
        "mail b***@example.org with Bearer [redacted]"
    assert "eyJ" not in redact("token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl here")


@pytest.mark.parametrize(("env", "message"), [
    ({"PROMESSA_LOG_FORMAT": "xml"}, "PROMESSA_LOG_FORMAT must be one of json, text"),
    ({"PROMESSA_METRICS_TOKEN": "short"}, "PROMESSA_METRICS_TOKEN must be at least 16"),
])
def test_unusable_operations_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        settings_module.load(env)


def test_operations_settings_are_read_once():
    loaded = settings_module.load({"PROMESSA_LOG_FORMAT": "TEXT",
                                   "PROMESSA_METRICS_TOKEN": "a-long-scrape-token"})
    assert (loaded.log_format, loaded.metrics_token) == ("text", "a-long-scrape-token")
    assert settings_module.load({}).metrics_token is None
