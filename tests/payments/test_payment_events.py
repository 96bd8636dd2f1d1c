"""Every movement of money is on the order's timeline and in its event stream, on both
engines: a refused capture (PAYMENT_FAILED), the capture an agent's retry gets through
(PAYMENT_CAPTURED), a refund (PAYMENT_REFUNDED) and the release of an authorisation nothing
will be captured from (PAYMENT_VOIDED) — each once."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import desk, rows
from tests.api.returns import op
from tests.conftest import Api
from tests.invariants import violations
from tests.payments.support import (
    TWO_PARCELS,
    consumer,
    drain,
    hand_over,
    paid_order,
    payment_of,
    provider,
    run,
    seed,
)
from tests.payments.test_payment_flow import _returned

pytestmark = pytest.mark.anyio
TIMELINE = """query($n: String!) { order(number: $n) { timeline { type } } }"""


async def money_on_timeline(api: Api, number: str, token: str) -> list[str]:
    timeline = (await api.data(TIMELINE, {"n": number}, token=token))["order"]["timeline"]
    return [t["type"] for t in timeline if t["type"].startswith("PAYMENT_")]


async def money_in_stream(db_url: str, number: str, stream: str | None = None) -> list[str]:
    """The order's PAYMENT_* events in `stream` (the order's own by default), in order."""
    found = await rows(db_url, "SELECT o.type FROM outbox o WHERE o.stream = :s AND o.type "
                               "LIKE 'PAYMENT%' AND o.event_id IN (SELECT event_id FROM outbox "
                               "WHERE stream = :own) ORDER BY o.sequence",
                       s=stream or f"order:{number}", own=f"order:{number}")
    return [t for (t,) in found]


async def test_every_movement_of_money_is_on_the_timeline_and_in_the_order_stream(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api, retries=1)
    await payments.take_in()
    taken = await paid_order(api, "pay-ev-000001", reference="pi_ev_capturefail",
                             lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}], token=tokens["ada"])
    await hand_over(api, tokens, taken, "WH-MIL", deliver=True)
    await drain(payments)  # refused twice, then parked: one PAYMENT_FAILED
    provider(api).heal("pi_ev_capturefail")
    retried = await run(api, "RetryPaymentCapture", {"input": {"orderNumber": taken}},
                        tokens["agent"])
    assert retried["userErrors"] == [], retried
    ret = await _returned(api, tokens, taken, "TSHIRT-RED-M")
    refunded = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                        token=tokens["agent"])
    assert refunded["userErrors"] == [], refunded
    assert (await payment_of(api, taken, tokens["agent"]))["status"] == "PARTIALLY_REFUNDED"

    released = await paid_order(api, "pay-ev-000002", reference="pi_ev_void",
                                lines=TWO_PARCELS, token=tokens["ada"])
    cancelled = await desk(api, "cancelOrder", tokens["agent"], number=released,
                           reason="CUSTOMER_REQUEST")
    assert cancelled["userErrors"] == []
    await drain(payments)
    assert (await payment_of(api, released, tokens["agent"]))["status"] == "VOIDED"

    moved = ["PAYMENT_FAILED", "PAYMENT_CAPTURED", "PAYMENT_REFUNDED"]
    assert await money_on_timeline(api, taken, tokens["agent"]) == ["PAYMENT_AUTHORIZED", *moved]
    assert await money_in_stream(db_url, taken) == moved
    assert await money_on_timeline(api, released, tokens["agent"]) == [
        "PAYMENT_AUTHORIZED", "PAYMENT_VOIDED"]
    assert await money_in_stream(db_url, released) == ["PAYMENT_VOIDED"]
    # the same events, once each, where webhooks, RabbitMQ and the payments consumer read
    for number, expected in ((taken, moved), (released, ["PAYMENT_VOIDED"])):
        assert await money_in_stream(db_url, number, "$all") == expected
        assert await money_in_stream(db_url, number, "orders") == expected
    assert await violations(db_url) == []
