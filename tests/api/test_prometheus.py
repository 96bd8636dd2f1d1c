"""/metrics: scraped after real requests and read with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from persistence.db import Database
from persistence.outbox import SqlOutbox
from tests.api.realtime import Follower, ws_client
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio


async def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_orders_and_refusals_are_counted(api, tokens):
    await seed_contract_network(api, tokens)
    before = await scrape(api.client)
    named = PLACE.replace("mutation(", "mutation Checkout(")
    await api.data(named, {"input": order_input("metrics-key-1")})
    refused = await api.data(named, {"input": order_input(
        "metrics-key-2", lines=[{"sku": "NOPE", "quantity": 1}])})
    assert refused["placeOrder"]["userErrors"][0]["code"] == "UNKNOWN_SKU"
    await api.client.post("/graphql", json={"query": "query Broken { nope }"})
    after = await scrape(api.client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("promessa_graphql_requests_total", operation="Checkout", outcome="ok") == 1
    assert moved("promessa_graphql_requests_total", operation="Checkout",
                 outcome="user_error") == 1
    assert moved("promessa_graphql_requests_total", operation="Broken",
                 outcome="user_error") == 1
    assert moved("promessa_graphql_requests_total", operation="UpsertSkus", outcome="ok") == 0
    assert value(after, "promessa_graphql_requests_total", operation="UpsertSkus",
                 outcome="ok") == 1
    assert moved("promessa_graphql_request_duration_seconds_count", operation="Checkout",
                 outcome="ok") == 1
    assert moved("promessa_graphql_request_duration_seconds_bucket", operation="Checkout",
                 outcome="ok", le="+Inf") == 1
    assert moved("promessa_orders_placed_total") == 1
    assert moved("promessa_orders_refused_total", code="UNKNOWN_SKU") == 1
    assert value(after, "promessa_active_subscriptions") == 0
    assert value(after, "promessa_outbox_lag_seconds") == 0
    assert value(after, "promessa_db_pool_checked_out") == 0


async def test_pool_size_is_the_configured_one_on_postgresql(api, db_url):
    samples = await scrape(api.client)
    if db_url.startswith("postgresql"):
        assert value(samples, "promessa_db_pool_size") == 20
    assert ("promessa_db_pool_size", ()) in samples


async def test_reservation_conflicts_and_database_retries_are_counted(api, tokens):
    await seed_contract_network(api, tokens)
    deps = api.app.state.deps
    async with deps.uow() as tx:  # more than there is: the conditional reservation refuses
        assert await tx.inventory.reserve([("TSHIRT-BLU-M", "WH-MIL", 10**6)]) is None
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    assert await deps.retrying(flaky) == "done"
    samples = await scrape(api.client)
    assert value(samples, "promessa_reservation_conflicts_total") == 1
    assert value(samples, "promessa_db_retries_total") == 2


async def test_active_subscriptions_are_a_gauge(live, tokens):
    await seed_contract_network(live.api, tokens)
    async with ws_client(live.ws_url, tokens["integration"]) as session:
        doc = "subscription { inventoryEvents { sequence } }"
        async with Follower(session, doc, {}), Follower(session, doc, {}):
            for _ in range(1000):
                samples = await scrape(live.api.client)
                if value(samples, "promessa_active_subscriptions") == 2:
                    break
                await asyncio.sleep(0.02)
            assert value(samples, "promessa_active_subscriptions") == 2


async def test_metrics_can_require_a_bearer_token(live_server):
    async with live_server(metrics_token="scrape-me-please-0123") as live:
        refused = await live.api.client.get("/metrics")
        wrong = await live.api.client.get("/metrics",
                                          headers={"authorization": "Bearer nope"})
        samples = await scrape(live.api.client, authorization="Bearer scrape-me-please-0123")
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert ("promessa_active_subscriptions", ()) in samples


async def test_outbox_lag_is_the_age_of_the_oldest_event_past_a_followed_head(
        api, tokens, clock, db_url):
    await seed_contract_network(api, tokens)
    written = clock.now()
    db = Database(db_url)
    try:
        outbox = SqlOutbox(db)
        _, head = await outbox.bounds("inventory")
        assert head > 1
        assert await outbox.oldest_after({"inventory": head - 1}) == written
        assert await outbox.oldest_after({"inventory": head}) is None
        assert await outbox.oldest_after({}) is None
    finally:
        await db.dispose()
    clock.current = written + timedelta(seconds=90)
    hub = api.app.state.realtime.hub
    hub.positions = lambda: {"inventory": head - 1}  # as if the pump had not read the last one
    assert value(await scrape(api.client), "promessa_outbox_lag_seconds") == 90
