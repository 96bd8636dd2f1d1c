"""Orders reach COMPLETED (issue 16), end to end on both engines: a delivered order is left
alone while its return window is open, and the timer's use case completes it once the window
has closed with nothing open — on the order's timeline, its event stream and the status page
— while an order with a return still open waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.api.lifecycle import TRACK, order, rows
from tests.api.returns import delivered_order, op, request, seed
from tests.invariants import violations

pytestmark = pytest.mark.anyio

SHIRT = [{"sku": "TSHIRT-BLU-M", "quantity": 1}]
# Delivered 3 January 11:20 in Rome: the web's window (30 days) closes at midnight after
# 2 February, Rome time; the timer takes orders delivered over 31 days and an hour ago.
WINDOW_CLOSES = datetime(2030, 2, 2, 23, 0, tzinfo=UTC)
TIMER_SEES = datetime(2030, 2, 3, 11, 20, 1, tzinfo=UTC)


async def test_a_delivered_order_completes_after_its_return_window_and_not_before(
        api, tokens, clock, db_url):
    await seed(api, tokens)
    done = await delivered_order(api, tokens, "complete-01", SHIRT)
    waiting = await delivered_order(api, tokens, "complete-02", SHIRT)
    clock.current = datetime(2030, 1, 10, tzinfo=UTC)
    asked = await op(api, "RequestReturn", request(waiting, [
        {"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]), token=tokens["agent"])
    assert asked["userErrors"] == [] and asked["return"]["status"] == "APPROVED"
    app = api.app.state.deps.app

    clock.current = WINDOW_CLOSES
    assert await app.returns.complete_due() == 0
    clock.current = TIMER_SEES
    # timers of three processes at once: the order is completed once
    assert sorted(await asyncio.gather(*(app.returns.complete_due() for _ in range(3)))) == [
        0, 0, 1]
    assert await app.returns.complete_due() == 0

    got = await order(api, done, tokens["agent"])
    assert got["status"] == "COMPLETED"
    assert [(t["type"], t["message"], t["actorRole"], t["before"], t["after"])
            for t in got["timeline"]][-1] == (
        "ORDER_COMPLETED", "Order completed: its return window closed at "
        "2030-02-03T00:00:00+01:00 with no return open", "system", "DELIVERED", "COMPLETED")
    tracked = (await api.data(TRACK, {"n": done, "e": "ada@example.com"}))["trackOrder"]
    assert tracked["status"] == "COMPLETED"
    assert tracked["timeline"][-1] == {"type": "ORDER_COMPLETED",
                                       "message": "Your order is complete. Thank you!"}
    assert (await order(api, waiting, tokens["agent"]))["status"] == "DELIVERED"
    streamed = await rows(db_url, "SELECT stream FROM outbox WHERE type = 'ORDER_COMPLETED' "
                                  "AND stream IN ('orders', 'order:' || :a, 'order:' || :b) "
                                  "ORDER BY stream", a=done, b=waiting)
    assert streamed == [("order:" + done,), ("orders",)]
    late = await op(api, "RequestReturn", request(done, [
        {"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]), token=tokens["agent"])
    assert [e["code"] for e in late["userErrors"]] == ["RETURN_WINDOW_CLOSED"]
    assert await violations(db_url) == []
