"""Placing an order: what it reserves and records, exactly once, never more than is sellable —
also when it loses a race to another order."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from domain.inventory import InventoryLevel, LedgerEntry
from domain.inventory.services import LevelSnapshot
from domain.kernel import errors
from domain.kernel.retry import Retry
from domain.orders import LineStatus, Order, OrderStatus
from domain.sourcing.ports import SourcingSnapshot
from tests.usecases.shop import (
    BOB,
    GIFT,
    LAMP,
    LOCATIONS,
    MUG,
    NOW,
    SOCKS,
    ST_EUR,
    ST_ROMA,
    TEE,
    WH_MIL,
    RacingReader,
    held,
    order_of,
    oversold,
    racing,
    state,
)

pytestmark = pytest.mark.anyio


async def test_placing_reserves_the_planned_units_and_records_why(shop_app, store, ada):
    order = await shop_app.checkout.place_order(order_of("place-0001", (TEE, 2)), principal=ada)

    assert (order.number, order.status, order.customer.email) == (
        "PR-000001", OrderStatus.ALLOCATED, "ada@example.com")
    assert [(f.location, [(ln.sku, ln.quantity) for ln in f.lines])
            for f in order.fulfillments] == [(ST_ROMA, [(TEE, 2)])]
    assert store.orders[order.number].lines[0].status is LineStatus.ALLOCATED
    assert held(store.levels)[(TEE, ST_ROMA)] == (6, 2)
    assert store.ledger[-1] == LedgerEntry(TEE, ST_ROMA, 0, 2, "ORDER_RESERVED", order.number,
                                           "customer:ada@example.com", NOW)
    placed = [e.event for e in store.outbox if e.stream == f"order:{order.number}"]
    assert [e.type for e in placed] == ["ORDER_PLACED"]
    [stock] = [e.event.payload for e in store.outbox if e.stream == "inventory"
               and e.event.payload["reason"] == "ORDER_RESERVED"]
    assert (stock["sku"], stock["location"], stock["onHand"], stock["reserved"]) == (
        TEE, ST_ROMA, 6, 2)
    [decision] = await store.reader.sourcing_decisions(order.number)
    assert decision.kind == "PLACEMENT"
    assert [s.location for s in decision.decision.shipments] == [ST_ROMA]


async def test_a_kit_is_reserved_as_its_components_at_one_location(shop_app, store, ada):
    order = await shop_app.checkout.place_order(order_of("kit-00001", (GIFT, 1)), principal=ada)

    [work] = order.fulfillments
    assert work.location == WH_MIL  # the only location with mugs
    assert sorted((ln.sku, ln.quantity) for ln in work.lines) == [(MUG, 2), (TEE, 1)]
    levels = held(store.levels)
    assert (levels[(MUG, WH_MIL)], levels[(TEE, WH_MIL)]) == ((10, 2), (40, 1))
    assert (GIFT, WH_MIL) not in levels  # a kit holds no stock of its own


async def test_the_same_key_and_request_return_the_one_order_reserved_once(shop_app, store,
                                                                           ada):
    first = await shop_app.checkout.place_order(order_of("again-0001", (TEE, 2)), principal=ada)
    after_first = state(store)

    second = await shop_app.checkout.place_order(order_of("again-0001", (TEE, 2)), principal=ada)

    assert second.id == first.id and second.number == first.number
    assert state(store) == after_first
    assert held(store.levels)[(TEE, ST_ROMA)] == (6, 2)


async def test_the_same_key_for_another_request_is_refused_and_changes_nothing(shop_app, store,
                                                                               ada):
    await shop_app.checkout.place_order(order_of("again-0002", (TEE, 2)), principal=ada)
    before = state(store)

    with pytest.raises(errors.IdempotencyKeyMismatch) as refused:
        await shop_app.checkout.place_order(order_of("again-0002", (TEE, 3)), principal=ada)

    assert refused.value.field == ["idempotencyKey"]
    assert state(store) == before


async def test_twenty_identical_requests_at_once_make_one_order(shop_app, store, ada):
    answers = await asyncio.gather(*(
        shop_app.checkout.place_order(order_of("burst-0001", (TEE, 2)), principal=ada)
        for _ in range(20)))

    assert {o.number for o in answers} == {"PR-000001"}
    assert list(store.orders) == ["PR-000001"]
    assert held(store.levels)[(TEE, ST_ROMA)] == (6, 2)
    assert [e.reference for e in store.ledger if e.reason == "ORDER_RESERVED"] == ["PR-000001"]


async def test_not_enough_stock_anywhere_is_refused_and_nothing_is_written(shop_app, store,
                                                                           ada):
    before = state(store)

    with pytest.raises(errors.InsufficientStock) as refused:
        await shop_app.checkout.place_order(order_of("short-0001", (MUG, 1), (TEE, 60)),
                                            principal=ada)

    assert (refused.value.skus, refused.value.field) == ((TEE,), ["lines", "1"])
    assert state(store) == before
    # nor was the key kept: the customer may send a smaller cart under it
    smaller = await shop_app.checkout.place_order(order_of("short-0001", (MUG, 1), (TEE, 6)),
                                                  principal=ada)
    assert smaller.status is OrderStatus.ALLOCATED


async def test_safety_stock_is_never_sold(shop_app, store, ada):
    # two lamps on hand in Milan, one of them kept back as safety stock
    with pytest.raises(errors.InsufficientStock):
        await shop_app.checkout.place_order(order_of("lamp-0001", (LAMP, 2)), principal=ada)

    await shop_app.checkout.place_order(order_of("lamp-0002", (LAMP, 1)), principal=ada)
    with pytest.raises(errors.InsufficientStock):
        await shop_app.checkout.place_order(order_of("lamp-0003", (LAMP, 1)), principal=ada)

    assert store.levels[(LAMP, WH_MIL)] == InventoryLevel(LAMP, WH_MIL, 2, 1, 1)
    assert len(store.orders) == 1


async def test_a_customer_places_orders_only_for_their_own_email(shop_app, store, ada, agent):
    before = state(store)

    with pytest.raises(errors.Forbidden) as refused:
        await shop_app.checkout.place_order(
            order_of("email-0001", (TEE, 1), email="bob@example.com"), principal=ada)

    assert refused.value.field == ["customer", "email"]
    assert state(store) == before
    # an agent places on anyone's behalf
    order = await shop_app.checkout.place_order(
        order_of("email-0002", (TEE, 1), email="bob@example.com"), principal=agent)
    assert (order.customer.email, order.placed_by) == ("bob@example.com",
                                                       "agent:agent@example.com")


# --- lost races ---------------------------------------------------------------------------------

async def test_a_lost_race_is_planned_again_from_the_next_location(shop_app, store, ada):
    rival: list[Order] = []

    async def a_rival_empties_the_corner_store(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        if not rival:  # right after Ada's first snapshot, before she writes
            rival.append(await shop_app.checkout.place_order(
                order_of("rival-0001", (TEE, 6), email="bob@example.com"), principal=BOB))
        return snapshot

    reader = RacingReader(store.reader, a_rival_empties_the_corner_store)

    order = await racing(shop_app, reader).checkout.place_order(order_of("race-0001", (TEE, 2)),
                                                                principal=ada)

    assert [f.location for f in rival[0].fulfillments] == [ST_ROMA]
    assert reader.snapshots == 2  # the first plan (ST-ROMA) was refused by the guard
    assert [f.location for f in order.fulfillments] == [ST_EUR]
    levels = held(store.levels)
    assert (levels[(TEE, ST_ROMA)], levels[(TEE, ST_EUR)]) == ((6, 6), (3, 2))
    assert oversold(store) == []
    assert [(e.location, e.reserved_delta, e.reference) for e in store.ledger
            if e.reason == "ORDER_RESERVED"] == [(ST_ROMA, 6, rival[0].number),
                                                 (ST_EUR, 2, order.number)]
    assert [d.kind for d in await store.reader.sourcing_decisions(order.number)] == [
        "PLACEMENT"]


async def test_a_lost_race_for_the_last_unit_is_refused_without_oversell(shop_app, store, ada):
    rival: list[Order] = []

    async def a_rival_takes_the_last_lamp(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        if not rival:
            rival.append(await shop_app.checkout.place_order(
                order_of("rival-0002", (LAMP, 1), email="bob@example.com"), principal=BOB))
        return snapshot

    reader = RacingReader(store.reader, a_rival_takes_the_last_lamp)

    with pytest.raises(errors.InsufficientStock):
        await racing(shop_app, reader).checkout.place_order(order_of("race-0002", (LAMP, 1)),
                                                            principal=ada)

    assert reader.snapshots == 2
    assert store.levels[(LAMP, WH_MIL)] == InventoryLevel(LAMP, WH_MIL, 2, 1, 1)
    assert list(store.orders) == [rival[0].number]
    assert [e.reference for e in store.ledger if e.reason == "ORDER_RESERVED"] == [
        rival[0].number]


async def test_a_race_lost_on_every_run_ends_in_conflict_after_all_attempts(shop_app, store,
                                                                             ada):
    async def phantom_lamps(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        # the snapshot shows lamps the reservation guard will not find (1 is sellable)
        levels = dict(snapshot.levels)
        levels[(LAMP, WH_MIL)] = InventoryLevel(LAMP, WH_MIL, 100, 0, 0)
        return dataclasses.replace(snapshot, levels=levels)

    reader = RacingReader(store.reader, phantom_lamps)
    before = state(store)

    with pytest.raises(errors.Conflict) as gave_up:
        await racing(shop_app, reader).checkout.place_order(order_of("race-0003", (LAMP, 2)),
                                                            principal=ada)

    assert reader.snapshots == Retry().attempts == shop_app.ports.retry.attempts
    assert gave_up.value.code == "CONFLICT"
    assert state(store) == before


async def test_a_location_s_daily_capacity_holds_under_a_race(shop_app, store, admin, ada):
    corner = next(loc for loc in LOCATIONS if loc.code == ST_ROMA)
    await shop_app.catalog.upsert_locations([dataclasses.replace(corner, daily_capacity=1)],
                                            principal=admin)

    async def as_read(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        return snapshot

    reader = RacingReader(store.reader, as_read)  # only counts the plans made
    buyers = racing(shop_app, reader)

    # all three plan on the corner store; its one slot of the day goes to one of them
    placed = await asyncio.gather(*(
        buyers.checkout.place_order(order_of(f"slot-{i:04d}", (TEE, 1)), principal=ada)
        for i in range(3)))

    assert sorted(f.location for o in placed for f in o.fulfillments) == [
        ST_EUR, ST_EUR, ST_ROMA]
    levels = held(store.levels)
    assert (levels[(TEE, ST_ROMA)], levels[(TEE, ST_EUR)]) == ((6, 1), (3, 2))
    assert reader.snapshots > 3  # the two that lost the slot planned again


async def test_twenty_buyers_for_five_sellable_units_make_exactly_five_orders(shop_app, store,
                                                                              integration,
                                                                              ada):
    # 2 sellable in Rome, 3 in Milan, each behind safety stock
    await shop_app.inventory.set_levels([LevelSnapshot(SOCKS, ST_ROMA, 4, 2),
                                         LevelSnapshot(SOCKS, WH_MIL, 8, 5)],
                                        reason="CYCLE_COUNT", principal=integration)
    breaches: list[object] = []
    store.on_commit = lambda _heads: breaches.extend(oversold(store))  # after every commit

    async def as_read(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        return snapshot

    reader = RacingReader(store.reader, as_read)  # only counts the plans made
    buyers = racing(shop_app, reader)
    outcomes = await asyncio.gather(*(
        buyers.checkout.place_order(order_of(f"socks-{i:04d}", (SOCKS, 1)), principal=ada)
        for i in range(20)), return_exceptions=True)

    placed = [o for o in outcomes if isinstance(o, Order)]
    losers = [o for o in outcomes if not isinstance(o, Order)]
    assert len(placed) == 5 and len(store.orders) == 5
    assert all(isinstance(e, errors.InsufficientStock | errors.Conflict) for e in losers), losers
    levels = held(store.levels)
    assert (levels[(SOCKS, ST_ROMA)], levels[(SOCKS, WH_MIL)]) == ((4, 2), (8, 3))
    assert breaches == [] and oversold(store) == []
    assert reader.snapshots > 20  # buyers did lose races and planned again
    assert sum(e.reserved_delta for e in store.ledger
               if e.sku == SOCKS and e.reason == "ORDER_RESERVED") == 5
