"""Promessa's own plumbing events (a customer mail queued again: NOTIFICATION_RESEND) are in
the outbox for the notifications consumer only: no webhook endpoint gets them, even one that
asked for every type, and the broker does not publish them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.integration.broker import BrokerHandler
from domain.integration import INTERNAL_EVENT_TYPES, WebhookEndpoint
from persistence.consumers import NewEvent
from persistence.notifications import RESEND
from tests.integration.test_webhooks import QUICK

pytestmark = pytest.mark.anyio
AT = datetime(2030, 1, 2, tzinfo=UTC)


def event(position: int, kind: str) -> NewEvent:
    return NewEvent(position=position, event_id=f"e{position}", type=kind, at=AT,
                    payload={"order": "PR-000001"}, raw="{}", stream="order:PR-000001",
                    sequence=position, created_at=AT)


def test_the_resend_event_is_internal() -> None:
    assert RESEND in INTERNAL_EVENT_TYPES


def test_an_endpoint_for_every_type_does_not_get_internal_events() -> None:
    everything = WebhookEndpoint(id="w1", url="https://example.com/hook", event_types=(),
                                 description="", secret="s", created_by="admin", created_at=AT,
                                 updated_at=AT)
    assert everything.wants("ORDER_PLACED") and everything.wants("FULFILLMENT_SHIPPED")
    assert not everything.wants(RESEND)


async def test_the_broker_does_not_publish_internal_events() -> None:
    broker = BrokerHandler("amqp://guest:guest@127.0.0.1:5672/", backoff=QUICK)
    targets = await broker.targets([event(1, "ORDER_PLACED"), event(2, RESEND),
                                    event(3, "FULFILLMENT_SHIPPED")])
    assert targets == [("",), (), ("",)]
