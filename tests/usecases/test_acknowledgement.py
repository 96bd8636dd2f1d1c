"""THIRD_PARTY locations: work offered to their integration (FULFILLMENT_ASSIGNED) must be
accepted within the location's acknowledgement window, or the system re-sources it as a
rejection — once, however many timers race, and never work that was accepted (issue 13)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    Location,
    LocationType,
    Sku,
    new_location,
)
from domain.fulfillment import fulfilling
from domain.inventory.services import LevelSnapshot
from domain.kernel import errors
from domain.kernel.geo import GeoPoint
from domain.orders import FulfillmentStatus, Order, OrderStatus
from tests.usecases.shop import (
    ADMIN,
    AGENT,
    DELIVERED_AT,
    INTEGRATION,
    NOW,
    SOCKS,
    ST_EUR,
    TEE,
    TEE_L,
    WH_MIL,
    RacingReader,
    associate,
    deliver,
    held,
    order_of,
    oversold,
    racing,
    return_of,
    state,
    work_at,
)

pytestmark = pytest.mark.anyio

TPL, TPL_SLOW = "3PL-ROMA", "3PL-NAPOLI"  # a logistics partner in Rome; one with no window
WINDOW = 30


def partner(code: str, *, ack_minutes: int | None, point: GeoPoint) -> Location:
    return Location(code, f"Partner {code}", LocationType.THIRD_PARTY,
                    Address("Via Tiburtina 900", "Roma", "00156", "IT", point=point),
                    frozenset({Capability.SHIP}), ("web",), time_zone="Europe/Rome",
                    processing_hours=4, cost_per_shipment=Decimal("1.00"),
                    ack_minutes=ack_minutes)


@pytest.fixture
async def partners(shop_app):
    """Socks are kept by the Rome partner (30-minute window) and the Milan warehouse."""
    await shop_app.catalog.upsert_locations(
        [partner(TPL, ack_minutes=WINDOW, point=GeoPoint(41.92, 12.55)),
         partner(TPL_SLOW, ack_minutes=None, point=GeoPoint(40.85, 14.27))], principal=ADMIN)
    await shop_app.inventory.set_levels(
        [LevelSnapshot(SOCKS, TPL, 10), LevelSnapshot(SOCKS, WH_MIL, 10)], reason="COUNT",
        principal=INTEGRATION)
    return shop_app


@pytest.fixture
async def offered(partners, ada) -> Order:
    order = await partners.checkout.place_order(order_of("ack-00001", (SOCKS, 2)),
                                                principal=ada)
    assert [f.location for f in order.fulfillments] == [TPL]
    return order


def types(order: Order) -> list[str]:
    return [t.type for t in order.timeline]


async def test_work_placed_at_a_third_party_location_is_offered_to_its_integration(
        offered, store):
    [work] = offered.fulfillments
    entry = offered.timeline[-1]
    assert (entry.type, entry.message, entry.actor, entry.after) == (
        "FULFILLMENT_ASSIGNED", f"Work offered to {TPL} (2 units); to be accepted within 30 "
        "minutes", "system", "ASSIGNED")
    offers = [e for e in store.outbox if e.event.type == "FULFILLMENT_ASSIGNED"]
    assert [e.stream for e in offers] == [f"order:{offered.number}", "orders",
                                          f"location:{TPL}"]
    assert offers[0].event.payload == {"order": offered.number, "status": "ALLOCATED",
                                       "fulfillment": work.id, "location": TPL,
                                       "fulfillmentStatus": "ASSIGNED"}


async def test_work_at_warehouses_and_stores_is_not_offered(shop_app, ada, store):
    order = await shop_app.checkout.place_order(order_of("ack-00002"), principal=ada)
    assert "FULFILLMENT_ASSIGNED" not in types(order)
    assert not [e for e in store.outbox if e.event.type == "FULFILLMENT_ASSIGNED"]


async def test_nothing_moves_inside_the_window(partners, offered, clock, store):
    before = state(store)
    clock.current = NOW + timedelta(minutes=WINDOW)  # created exactly 30 minutes ago
    assert await partners.fulfillment.expire_unacknowledged() == 0
    assert state(store) == before


async def test_unaccepted_work_is_resourced_by_the_system_once_the_window_has_passed(
        partners, offered, clock, store):
    clock.current = NOW + timedelta(minutes=WINDOW, seconds=1)

    assert await partners.fulfillment.expire_unacknowledged() == 1

    order = store.orders[offered.number]
    assert [(f.location, f.status, f.reason) for f in order.fulfillments] == [
        (TPL, FulfillmentStatus.REJECTED, "NOT_ACKNOWLEDGED"),
        (WH_MIL, FulfillmentStatus.ASSIGNED, None)]
    assert order.status is OrderStatus.ALLOCATED and order.hold_reason is None
    assert [(t.type, t.message, t.actor) for t in order.timeline[-2:]] == [
        ("FULFILLMENT_UNACKNOWLEDGED",
         f"{TPL} did not accept its fulfillment within 30 minutes (2 units)", "system"),
        ("ORDER_RESOURCED", f"2 units re-sourced to {WH_MIL} after {TPL} did not accept them "
         "within 30 minutes", "system")]
    assert held(store.levels)[(SOCKS, TPL)] == (10, 0)
    assert held(store.levels)[(SOCKS, WH_MIL)] == (10, 2)
    assert [(e.stream, e.event.type) for e in store.outbox
            if e.stream == f"location:{TPL}"][-1] == (f"location:{TPL}",
                                                      "FULFILLMENT_UNACKNOWLEDGED")
    # the warehouse is not a partner: nothing more is offered, and a second run finds nothing
    assert types(order).count("FULFILLMENT_ASSIGNED") == 1
    before = state(store)
    clock.current += timedelta(hours=2)
    assert await partners.fulfillment.expire_unacknowledged() == 0
    assert state(store) == before
    assert oversold(store) == []


async def test_accepted_work_is_never_resourced(partners, offered, clock, store):
    partner_app = associate(TPL)
    await partners.fulfillment.work_on(work_at(offered, TPL), fulfilling.Accept(),
                                       principal=partner_app)
    before = state(store)
    clock.current = NOW + timedelta(days=2)

    assert await partners.fulfillment.expire_unacknowledged() == 0
    assert state(store) == before


async def test_a_location_without_a_window_keeps_its_work(partners, ada, clock, store):
    await partners.inventory.set_levels([LevelSnapshot(SOCKS, TPL, 0),
                                         LevelSnapshot(SOCKS, TPL_SLOW, 10)], reason="COUNT",
                                        principal=INTEGRATION)
    order = await partners.checkout.place_order(order_of("ack-00003", (SOCKS, 1)),
                                                principal=ada)
    assert [f.location for f in order.fulfillments] == [TPL_SLOW]
    assert order.timeline[-1].message == f"Work offered to {TPL_SLOW} (1 units)"
    clock.current = NOW + timedelta(days=7)
    assert await partners.fulfillment.expire_unacknowledged() == 0


async def test_two_timers_racing_resource_the_work_once(partners, offered, clock, store):
    clock.current = NOW + timedelta(hours=1)

    moved = await asyncio.gather(*(partners.fulfillment.expire_unacknowledged()
                                   for _ in range(3)))

    assert sum(moved) == 1
    order = store.orders[offered.number]
    assert types(order).count("FULFILLMENT_UNACKNOWLEDGED") == 1
    assert [f.status for f in order.fulfillments] == [FulfillmentStatus.REJECTED,
                                                      FulfillmentStatus.ASSIGNED]
    assert held(store.levels)[(SOCKS, WH_MIL)] == (10, 2)


async def test_work_accepted_while_the_timer_plans_stays_where_it_is(app, partners, offered,
                                                                     clock, store):
    """The partner accepts between the timer's read and its write: the write finds the work
    moved on (Stale), the retry reads it ACCEPTED and leaves it."""
    clock.current = NOW + timedelta(hours=1)
    accepted = []

    async def accept_first(snapshot):
        if not accepted:
            accepted.append(await app.fulfillment.work_on(
                work_at(offered, TPL), fulfilling.Accept(), principal=associate(TPL)))
        return snapshot

    timer = racing(partners, RacingReader(store.reader, accept_first))
    assert await timer.fulfillment.expire_unacknowledged() == 0
    order = store.orders[offered.number]
    assert [(f.location, f.status) for f in order.fulfillments] == [
        (TPL, FulfillmentStatus.ACCEPTED)]
    assert held(store.levels)[(SOCKS, TPL)] == (10, 2)


async def test_held_orders_wait_and_a_release_restarts_the_window(partners, offered, clock,
                                                                 store):
    await partners.service_desk.hold(offered.number, reason="fraud check", principal=AGENT)
    clock.current = NOW + timedelta(hours=3)
    assert await partners.fulfillment.expire_unacknowledged() == 0  # it could not be accepted

    await partners.service_desk.release(offered.number, reason=None, principal=AGENT)
    clock.current += timedelta(minutes=WINDOW - 1)
    assert await partners.fulfillment.expire_unacknowledged() == 0
    clock.current += timedelta(minutes=2)
    assert await partners.fulfillment.expire_unacknowledged() == 1


async def test_the_batch_takes_the_oldest_work_first(partners, ada, clock, store):
    first = await partners.checkout.place_order(order_of("ack-00010", (SOCKS, 1)),
                                                principal=ada)
    clock.current += timedelta(minutes=1)
    second = await partners.checkout.place_order(order_of("ack-00011", (SOCKS, 1)),
                                                 principal=ada)
    clock.current += timedelta(hours=1)

    assert await partners.fulfillment.expire_unacknowledged(limit=1) == 1
    assert [f.status for f in store.orders[first.number].fulfillments][0] is \
        FulfillmentStatus.REJECTED
    assert store.orders[second.number].fulfillments[0].status is FulfillmentStatus.ASSIGNED
    assert await partners.fulfillment.expire_unacknowledged(limit=0) == 0
    assert await partners.fulfillment.expire_unacknowledged() == 1


async def test_work_resourced_or_rerouted_to_a_partner_is_offered_to_it(partners, ada, store):
    await partners.inventory.set_levels([LevelSnapshot(SOCKS, TPL_SLOW, 10)], reason="COUNT",
                                        principal=INTEGRATION)
    order = await partners.checkout.place_order(order_of("ack-00004", (SOCKS, 1)),
                                                principal=ada)

    done = await partners.fulfillment.reroute(work_at(order, TPL), to=TPL_SLOW,
                                              reason="PARTNER_CLOSED", principal=AGENT)

    [new] = done.created
    assert (new.location, done.order.timeline[-1].type, done.order.timeline[-1].message) == (
        TPL_SLOW, "FULFILLMENT_ASSIGNED", f"Work offered to {TPL_SLOW} (1 units)")
    offers = [e.event.payload["fulfillment"] for e in store.outbox
              if e.event.type == "FULFILLMENT_ASSIGNED" and e.stream == f"location:{TPL_SLOW}"]
    assert offers == [new.id]


async def test_a_backorder_received_at_a_partner_is_offered_to_it(partners, ada, store):
    slippers = Sku("SLIPPERS", "Slippers", "apparel", HandlingClass.STANDARD, 300,
                   {"EUR": Decimal("15.00")}, backorderable=True)
    await partners.catalog.upsert_skus([slippers], principal=INTEGRATION)
    incoming = await partners.inventory.expect_incoming(
        sku="SLIPPERS", location=TPL, quantity=5, expected_at=NOW + timedelta(days=3),
        reference="ASN-1", principal=INTEGRATION)
    order = await partners.checkout.place_order(order_of("ack-00005", ("SLIPPERS", 1)),
                                                principal=ada)
    assert order.status is OrderStatus.BACKORDERED and "FULFILLMENT_ASSIGNED" not in types(order)

    await partners.inventory.receive_incoming(incoming.id, quantity=None, principal=INTEGRATION)

    order = store.orders[order.number]
    assert types(order)[-2:] == ["BACKORDER_ALLOCATED", "FULFILLMENT_ASSIGNED"]
    assert [(f.location, f.status) for f in order.fulfillments] == [
        (TPL, FulfillmentStatus.ASSIGNED)]


async def test_ack_minutes_belongs_to_third_party_locations_only(partners):
    def make(type_: str, minutes: int | None) -> Location:
        return new_location(
            code="X1", name="X", type=type_,
            address=Address("Via Roma 1", "Roma", "00100", "IT", point=GeoPoint(41.9, 12.5)),
            capabilities=["SHIP"], channels=["web"], handling_classes=None,
            time_zone="Europe/Rome", cutoff_time="15:00", processing_hours=4,
            daily_capacity=None, cost_per_shipment=None, cost_per_kg=None,
            carbon_factor=None, active=True, at=["locations", "0"], ack_minutes=minutes)

    assert make("THIRD_PARTY", 10080).ack_minutes == 10080
    assert make("WAREHOUSE", None).ack_minutes is None
    for type_, minutes in (("THIRD_PARTY", 0), ("THIRD_PARTY", 10081), ("STORE", 30)):
        with pytest.raises(errors.InvalidInput) as refused:
            make(type_, minutes)
        assert refused.value.field == ["locations", "0", "ackMinutes"]
    assert (await partners.ports.reader.locations([TPL]))[TPL].ack_minutes == WINDOW


async def test_an_exchange_replacement_waits_for_the_return_then_gets_a_fresh_window(
        partners, ada, clock, store):
    """A replacement is held until the return arrives: the partner cannot accept it before,
    so its window starts when the hold is released."""
    await partners.inventory.set_levels(
        [LevelSnapshot(TEE_L, ST_EUR, 0), LevelSnapshot(TEE_L, WH_MIL, 0),
         LevelSnapshot(TEE_L, TPL, 5)], reason="COUNT", principal=INTEGRATION)
    placed = await partners.checkout.place_order(order_of("ack-00006", (TEE, 1)), principal=ada)
    await deliver(partners, placed.number)
    clock.current = DELIVERED_AT + timedelta(days=1)
    asked = await partners.returns.request(return_of(placed.number, (TEE, 1),
                                                     exchange_for=TEE_L), principal=ada)
    replacement = store.orders[asked.replacement.number]
    assert [f.location for f in replacement.fulfillments] == [TPL]
    assert "FULFILLMENT_ASSIGNED" in types(replacement) and replacement.hold_reason
    clock.current += timedelta(days=3)
    assert await partners.fulfillment.expire_unacknowledged() == 0  # held: nothing to accept

    await partners.returns.mark_in_transit(asked.ret.number, principal=INTEGRATION)
    await partners.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (1, 0)},
                                   principal=associate(WH_MIL))
    assert store.orders[replacement.number].hold_reason is None
    clock.current += timedelta(minutes=WINDOW - 1)
    assert await partners.fulfillment.expire_unacknowledged() == 0
    clock.current += timedelta(minutes=2)
    assert await partners.fulfillment.expire_unacknowledged() == 1
    replacement = store.orders[replacement.number]  # nobody else has the size: an agent
    assert types(replacement)[-2:] == ["FULFILLMENT_UNACKNOWLEDGED", "ORDER_HELD"]
    assert replacement.hold_reason == (f"{TPL} did not accept its fulfillment within 30 "
                                       f"minutes; no other location can supply 1 × {TEE_L}")
