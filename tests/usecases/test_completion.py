"""Orders reach COMPLETED: a timer completes a delivered order once its return window has
closed with no return open, with ORDER_COMPLETED — once, however many timers race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.kernel import errors
from domain.orders import Order, OrderStatus, TrackingStatus
from domain.returns.completion import window_closes
from domain.returns.status import ReturnStatus
from tests.usecases.shop import (
    AGENT,
    DELIVERED_AT,
    INTEGRATION,
    TEE,
    WH_MIL,
    associate,
    deliver,
    order_of,
    return_of,
    state,
)

pytestmark = pytest.mark.anyio

# Delivered on 3 January at 11:20 in Rome: the web's longest window (30 days) ends at
# midnight after 2 February, Rome time.
WINDOW_CLOSES = datetime(2030, 2, 2, 23, 0, tzinfo=UTC)
# The timer looks at orders delivered more than 30 days, a day and an hour ago (by then every
# window has closed, whatever the customer's zone and the summer time): 3 February, 11:20 UTC.
TIMER_SEES = DELIVERED_AT + timedelta(days=31, hours=1, seconds=1)


@pytest.fixture
async def delivered(shop_app, ada) -> Order:
    placed = await shop_app.checkout.place_order(order_of("done-0001", (TEE, 2)), principal=ada)
    order = await deliver(shop_app, placed.number)
    assert order.status is OrderStatus.DELIVERED
    return order


async def test_the_window_closes_at_midnight_after_the_channels_longest_window(delivered):
    assert window_closes(delivered, time_zone="Europe/Rome") == WINDOW_CLOSES


async def test_a_delivered_order_completes_once_its_return_window_has_closed(
        shop_app, store, clock, delivered, ada):
    clock.current = WINDOW_CLOSES - timedelta(minutes=1)
    assert await shop_app.returns.complete_due() == 0
    clock.current = TIMER_SEES - timedelta(seconds=2)
    assert await shop_app.returns.complete_due() == 0

    clock.current = TIMER_SEES
    assert await shop_app.returns.complete_due() == 1

    order = store.orders[delivered.number]
    entry = order.timeline[-1]
    assert (order.status, entry.type, entry.actor, entry.before, entry.after) == (
        OrderStatus.COMPLETED, "ORDER_COMPLETED", "system", "DELIVERED", "COMPLETED")
    assert entry.message == ("Order completed: its return window closed at "
                             "2030-02-03T00:00:00+01:00 with no return open")
    assert entry.public == "Your order is complete. Thank you!"
    completed = [(e.stream, e.event.payload) for e in store.outbox
                 if e.event.type == "ORDER_COMPLETED"]
    assert completed == [(f"order:{delivered.number}",
                          {"order": delivered.number, "status": "COMPLETED"}),
                         ("orders", {"order": delivered.number, "status": "COMPLETED"})]
    # nothing more happens to it, and nothing may come back any more
    before = state(store)
    clock.current += timedelta(days=1)
    assert await shop_app.returns.complete_due() == 0
    assert state(store) == before
    with pytest.raises(errors.ReturnWindowClosed):
        await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)


async def test_an_open_return_holds_completion_back_until_it_is_settled(
        shop_app, store, clock, delivered, ada):
    clock.current = DELIVERED_AT + timedelta(days=2)
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    assert asked.ret.status is ReturnStatus.APPROVED
    clock.current = TIMER_SEES + timedelta(days=10)

    assert await shop_app.returns.complete_due() == 0
    assert store.orders[delivered.number].status is OrderStatus.DELIVERED

    await shop_app.returns.reject(asked.ret.number, reason="NEVER_SENT", principal=AGENT)
    assert await shop_app.returns.complete_due() == 1
    assert store.orders[delivered.number].status is OrderStatus.COMPLETED


async def test_a_returned_order_is_marked_returned_not_completed(shop_app, store, clock,
                                                                 delivered, ada):
    clock.current = DELIVERED_AT + timedelta(days=2)
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    await shop_app.returns.mark_in_transit(asked.ret.number, principal=INTEGRATION)
    await shop_app.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (1, 0)},
                                   principal=associate(WH_MIL))
    await shop_app.returns.refund(asked.ret.number, amount=None, principal=AGENT)
    clock.current = TIMER_SEES + timedelta(days=10)

    assert await shop_app.returns.complete_due() == 0
    assert store.orders[delivered.number].status is OrderStatus.PARTIALLY_RETURNED


async def test_orders_not_delivered_are_left_alone(shop_app, store, clock, ada):
    order = await shop_app.checkout.place_order(order_of("done-0002"), principal=ada)
    before = state(store)
    clock.current = TIMER_SEES + timedelta(days=100)
    assert await shop_app.returns.complete_due() == 0
    assert state(store) == before
    assert store.orders[order.number].status is OrderStatus.ALLOCATED


async def test_racing_timers_complete_an_order_once(shop_app, store, clock, delivered):
    clock.current = TIMER_SEES

    done = await asyncio.gather(*(shop_app.returns.complete_due() for _ in range(3)))

    assert sum(done) == 1
    assert [t.type for t in store.orders[delivered.number].timeline].count(
        "ORDER_COMPLETED") == 1
    assert len([e for e in store.outbox if e.event.type == "ORDER_COMPLETED"]) == 2


async def test_the_batch_completes_the_oldest_delivery_first(shop_app, store, clock, delivered,
                                                             ada):
    later = await shop_app.checkout.place_order(order_of("done-0003", (TEE, 1)), principal=ada)
    await deliver(shop_app, later.number, at=DELIVERED_AT + timedelta(hours=1))
    clock.current = TIMER_SEES + timedelta(days=1)

    assert await shop_app.returns.complete_due(limit=1) == 1
    assert store.orders[delivered.number].status is OrderStatus.COMPLETED
    assert store.orders[later.number].status is OrderStatus.DELIVERED
    assert await shop_app.returns.complete_due(limit=0) == 0
    assert await shop_app.returns.complete_due() == 1


async def test_a_completed_order_stays_completed_through_notes_and_late_scans(
        shop_app, store, clock, delivered):
    clock.current = TIMER_SEES
    await shop_app.returns.complete_due()

    order = await shop_app.service_desk.add_note(delivered.number, "thanked the customer",
                                                 principal=AGENT)
    assert order.status is OrderStatus.COMPLETED
    again = (await shop_app.fulfillment.record_tracking_event(
        delivered.fulfillments[0].id, status=TrackingStatus.DELIVERED,
        at=DELIVERED_AT + timedelta(minutes=5), location="Roma", description=None,
        expected_delivery=None, principal=INTEGRATION)).order
    assert again.status is OrderStatus.COMPLETED
