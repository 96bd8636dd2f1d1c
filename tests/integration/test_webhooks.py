"""Webhooks end to end: a real receiver that fails the first attempts, then accepts; every
event of a placed → shipped → delivered order arrives, verified with the `standardwebhooks`
reference library, in sequence order, with a `webhook-id` distinct per event and stable over
its retries; the delivery log shows the attempts. A receiver down past the schedule: events
parked, visible, retried by the operator, delivered. Both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from domain.integration import Backoff
from tests.api.returns import delivered_order, seed
from tests.conftest import Api, make_settings
from tests.integration.receiver import receiver

pytestmark = pytest.mark.anyio
SHIRT = "TSHIRT-BLU-M"
QUICK = Backoff((0.0, 0.0, 0.0), jitter=0.0)

CREATE = """mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id url eventTypes active description } secret userErrors { field message code } } }"""
DELIVERIES = """query($id: ID!, $status: [WebhookDeliveryStatus!], $first: Int) {
  webhookDeliveries(endpointId: $id, status: $status, first: $first) { totalCount
    edges { node { id eventId eventType status attempts lastResponseStatus lastError
                   nextAttemptAt deliveredAt } } } }"""
PARKED = """query($c: String) { parkedEvents(consumer: $c, first: 100) { totalCount
  edges { node { id consumer eventId eventType error attempts parkedAt } } } }"""
RETRY = """mutation($input: RetryParkedEventsInput!) { retryParkedEvents(input: $input) {
  retried userErrors { field message code } } }"""
UPDATE = """mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
  endpoint { id active } userErrors { field message code } } }"""
ENDPOINTS = "{ webhookEndpoints { id url eventTypes active disabledReason } }"


@asynccontextmanager
async def app_with_consumers(db_url: str, clock: Any, **settings: Any) -> AsyncIterator[Api]:
    settings.setdefault("webhook_backoff", QUICK)
    settings.setdefault("consumers", True)
    app = create_app(make_settings(db_url, consumer_poll_seconds=0.05, **settings),
                     clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            yield Api(client, app)


async def endpoint(api: Api, tokens: dict[str, str], url: str, types: list[str] | None = None,
                   token: str = "admin") -> tuple[str, str]:
    made = (await api.data(CREATE, {"input": {"url": url, "eventTypes": types or [],
                                              "description": "test receiver"}},
                           token=tokens[token]))["createWebhookEndpoint"]
    assert made["userErrors"] == [], made
    return made["endpoint"]["id"], made["secret"]


async def outbox_events(api: Api, number: str) -> list[tuple[str, str]]:
    """(event id, type) of every event of the order, in its stream's order."""
    import sqlalchemy as sa

    async with api.app.state.db.reader.begin() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT event_id, type FROM outbox WHERE stream = :s ORDER BY sequence"),
            {"s": f"order:{number}"})).all()
    return [(r.event_id, r.type) for r in rows]


async def test_a_failing_receiver_gets_every_event_in_order_signed_and_once_accepted(
        db_url: str, clock: Any, tokens: dict[str, str]) -> None:
    async with receiver(lambda n: 503 if n <= 3 else 204) as hook, \
            app_with_consumers(db_url, clock) as api:
        await seed(api, tokens)
        endpoint_id, secret = await endpoint(api, tokens, hook.url)
        number = await delivered_order(api, tokens, "webhook-flow-1",
                                       [{"sku": SHIRT, "quantity": 1}])
        expected = await outbox_events(api, number)
        assert [t for _, t in expected][:1] == ["ORDER_PLACED"]
        assert "FULFILLMENT_SHIPPED" in [t for _, t in expected]
        assert expected[-1][1] == "TRACKING_DELIVERED"

        def got_all(r: Any) -> bool:
            ids = {m.id for m in r.accepted}
            return all(e in ids for e, _ in expected)

        await hook.wait_for(got_all)
        bodies = hook.verified(secret)  # raises WebhookVerificationError on a bad signature
        mine = [b for b in bodies if b["data"].get("orderNumber") == number
                and b["data"]["stream"] == f"order:{number}"]
        assert [(b["id"], b["type"]) for b in mine] == expected  # in sequence order, once each
        assert [int(b["data"]["sequence"]) for b in mine] == list(range(1, len(expected) + 1))
        assert all(b["data"]["facts"]["order"] == number for b in mine)
        # the order itself, as the integration view shows it (now: delivered)
        assert {b["data"]["object"]["number"] for b in mine} == {number}
        assert mine[-1]["data"]["object"]["status"] == "DELIVERED"
        assert mine[-1]["data"]["object"]["customer"]["email"] == "ada@example.com"
        assert mine[-1]["data"]["object"]["fulfillments"][0]["trackingNumber"]
        # the first three attempts failed; each failed id came back and was then accepted,
        # under the same webhook-id
        failed = [r.id for r in hook.requests if r.answered == 503]
        assert len(failed) == 3
        assert set(failed) <= {r.id for r in hook.accepted}
        assert len({r.id for r in hook.accepted}) == len(hook.accepted)  # none accepted twice

        for _ in range(100):  # the receiver has them; the worker writes down that it does
            log = (await api.data(DELIVERIES, {"id": endpoint_id, "first": 100},
                                  token=tokens["admin"]))["webhookDeliveries"]
            by_event = {e["node"]["eventId"]: e["node"] for e in log["edges"]}
            if {by_event[e]["status"] for e, _ in expected} == {"DELIVERED"}:
                break
            await asyncio.sleep(0.05)
        for event_id in failed:
            assert by_event[event_id]["attempts"] >= 2
            assert by_event[event_id]["status"] == "DELIVERED"
            assert by_event[event_id]["deliveredAt"] is not None
        assert {by_event[e]["status"] for e, _ in expected} == {"DELIVERED"}


async def test_a_receiver_down_past_the_schedule_parks_then_the_operator_retries(
        db_url: str, clock: Any, tokens: dict[str, str]) -> None:
    up = {"now": False}
    async with receiver(lambda _n: 204 if up["now"] else 500) as hook, \
            app_with_consumers(db_url, clock, webhook_backoff=Backoff((0.0,), jitter=0.0)
                               ) as api:
        await seed(api, tokens)
        endpoint_id, secret = await endpoint(api, tokens, hook.url, ["ORDER_PLACED"])
        from tests.api.lifecycle import place

        number = (await place(api, "webhook-park-1"))["number"]

        async def parked() -> list[dict[str, Any]]:
            found = (await api.data(PARKED, {"c": "webhooks"}, token=tokens["admin"]))
            return [e["node"] for e in found["parkedEvents"]["edges"]]

        await hook.wait_for(lambda r: len(r.requests) >= 2)
        for _ in range(100):
            if await parked():
                break
            await asyncio.sleep(1)
        [event] = await parked()
        assert event["eventType"] == "ORDER_PLACED" and event["attempts"] == 2
        assert "HTTP 500" in event["error"]
        failed = (await api.data(DELIVERIES, {"id": endpoint_id, "status": ["FAILED"]},
                                 token=tokens["admin"]))["webhookDeliveries"]
        assert failed["totalCount"] == 1
        # nothing more is sent for it until the operator says so
        sent = len(hook.requests)
        up["now"] = True
        retried = (await api.data(RETRY, {"input": {"consumer": "webhooks",
                                                     "ids": [event["id"]]}},
                                  token=tokens["admin"]))["retryParkedEvents"]
        assert retried == {"retried": 1, "userErrors": []}
        await hook.wait_for(lambda r: len(r.accepted) == 1)
        assert len(hook.requests) == sent + 1
        [body] = hook.verified(secret)
        assert body["type"] == "ORDER_PLACED" and body["data"]["orderNumber"] == number
        assert await parked() == []


async def test_410_disables_the_endpoint_and_says_why(db_url: str, clock: Any,
                                                      tokens: dict[str, str]) -> None:
    async with receiver(lambda _n: 410) as hook, app_with_consumers(db_url, clock) as api:
        await seed(api, tokens)
        endpoint_id, _ = await endpoint(api, tokens, hook.url, ["ORDER_PLACED"])
        from tests.api.lifecycle import place

        await place(api, "webhook-gone-1")
        await hook.wait_for(lambda r: len(r.requests) >= 1)
        for _ in range(50):
            [found] = (await api.data(ENDPOINTS, token=tokens["admin"]))["webhookEndpoints"]
            if not found["active"]:
                break
            await asyncio.sleep(0.2)
        assert found["active"] is False and "410" in found["disabledReason"]
        assert len(hook.requests) == 1  # not retried
        enabled = (await api.data(UPDATE, {"input": {"id": endpoint_id, "active": True}},
                                  token=tokens["admin"]))["updateWebhookEndpoint"]
        assert enabled["endpoint"]["active"] is True


async def test_an_endpoint_failing_too_long_is_disabled_and_its_deliveries_parked(
        db_url: str, clock: Any, tokens: dict[str, str]) -> None:
    async with receiver(lambda _n: 500) as hook, \
            app_with_consumers(db_url, clock, webhook_disable_after_hours=0.5,
                               webhook_backoff=Backoff((0.0,) * 50, jitter=0.0)) as api:
        await seed(api, tokens)
        await endpoint(api, tokens, hook.url, ["ORDER_PLACED"])
        from tests.api.lifecycle import place

        await place(api, "webhook-failing-1")
        await hook.wait_for(lambda r: len(r.requests) >= 2)
        [found] = (await api.data(ENDPOINTS, token=tokens["admin"]))["webhookEndpoints"]
        assert found["active"] is True  # failing, but not for long yet
        clock.current += timedelta(hours=1)
        for _ in range(100):
            [found] = (await api.data(ENDPOINTS, token=tokens["admin"]))["webhookEndpoints"]
            if not found["active"]:
                break
            await asyncio.sleep(0.05)
        assert found["active"] is False and "failing since" in found["disabledReason"]
        for _ in range(100):  # the delivery in flight is parked by its holder, next round
            parked = (await api.data(PARKED, {"c": "webhooks"}, token=tokens["admin"]))
            if parked["parkedEvents"]["edges"]:
                break
            await asyncio.sleep(0.05)
        [event] = [e["node"] for e in parked["parkedEvents"]["edges"]]
        assert "endpoint disabled" in event["error"]
        sent = len(hook.requests)
        await asyncio.sleep(0.3)
        assert len(hook.requests) == sent  # nothing more is sent to it


async def test_a_410_leaves_what_was_delivered_in_the_same_batch_delivered(
        db_url: str, clock: Any, tokens: dict[str, str]) -> None:
    """Several orders' events in flight together; the receiver takes the first, then says
    410: the accepted one stays DELIVERED, the rest are parked, the endpoint disabled."""
    async with receiver(lambda n: 204 if n == 1 else 410) as hook:
        async with app_with_consumers(db_url, clock, consumers=False) as api:
            await seed(api, tokens)
            endpoint_id, _ = await endpoint(api, tokens, hook.url, ["ORDER_PLACED"])
            from persistence.consumers import SqlConsumers
            from tests.api.lifecycle import place

            await SqlConsumers(api.app.state.db).register("webhooks", now=clock.now())
            for i in range(4):  # waiting, to go out together when the consumer starts
                await place(api, f"webhook-410-batch-{i}")
        async with app_with_consumers(db_url, clock) as api:
            await hook.wait_for(lambda r: len(r.requests) >= 4)
            for _ in range(100):
                log = (await api.data(DELIVERIES, {"id": endpoint_id, "first": 100},
                                      token=tokens["admin"]))["webhookDeliveries"]
                statuses = sorted(e["node"]["status"] for e in log["edges"])
                if "PENDING" not in statuses and "RETRYING" not in statuses:
                    break
                await asyncio.sleep(0.05)
            assert statuses == ["DELIVERED", "FAILED", "FAILED", "FAILED"]
            [found] = (await api.data(ENDPOINTS, token=tokens["admin"]))["webhookEndpoints"]
            assert found["active"] is False


async def test_redeliver_since_a_time_without_a_zone_is_utc_and_an_edit_that_raced_is_refused(
        db_url: str, clock: Any, tokens: dict[str, str]) -> None:
    async with app_with_consumers(db_url, clock, consumers=False) as api:
        await seed(api, tokens)
        endpoint_id, _ = await endpoint(api, tokens, "http://127.0.0.1:9/hook")
        again = await api.data("""mutation($input: RedeliverWebhooksInput!) {
          redeliverWebhooks(input: $input) { queued userErrors { code } } }""",
                               {"input": {"endpointId": endpoint_id,
                                          "since": "2030-01-01T00:00:00"}},
                               token=tokens["admin"])
        assert again["redeliverWebhooks"]["userErrors"] == []
        assert again["redeliverWebhooks"]["queued"] > 0  # the seeding's events since then
        store = api.app.state.deps.integration.endpoints
        read = await store.get(endpoint_id)
        from datetime import UTC, datetime

        await store.disable(endpoint_id, "the receiver answered 410 Gone",
                            now=datetime(2030, 1, 2, 9, 31, tzinfo=UTC))
        from domain.kernel import errors

        read.description = "edited from a read older than the disabling"
        with pytest.raises(errors.Conflict):  # would have enabled it again unseen
            await store.save(read, was=read.updated_at)
        assert (await store.get(endpoint_id)).active is False
        clock.current = datetime(2030, 1, 2, 9, 32, tzinfo=UTC)
        fresh = (await api.data(UPDATE, {"input": {"id": endpoint_id, "active": True}},
                                token=tokens["admin"]))["updateWebhookEndpoint"]
        assert fresh["userErrors"] == [] and fresh["endpoint"]["active"] is True
