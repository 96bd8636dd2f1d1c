"""Working an order: stock leaves the books when the parcel leaves, locations work only their
own queue, rejected work moves to the next best location, cancelling gives the stock back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.fulfillment import fulfilling
from domain.fulfillment.scans import ScanIgnored
from domain.inventory import LedgerEntry
from domain.kernel import errors
from domain.orders import FulfillmentStatus, LineStatus, Order, OrderStatus, TrackingStatus
from domain.sourcing.ports import SourcingSnapshot
from tests.usecases.shop import (
    BOB,
    DELIVERED_AT,
    INTEGRATION,
    NOW,
    ST_EUR,
    ST_ROMA,
    TEE,
    WH_MIL,
    RacingReader,
    associate,
    held,
    order_of,
    oversold,
    racing,
    state,
    work_at,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def placed(shop_app, ada) -> Order:
    """Two tees for Ada, reserved at the corner store ST-ROMA."""
    order = await shop_app.checkout.place_order(order_of("work-0001", (TEE, 2)), principal=ada)
    assert [f.location for f in order.fulfillments] == [ST_ROMA]
    return order


async def test_shipping_consumes_the_reserved_stock_and_moves_the_order_on(shop_app, store,
                                                                           placed, roma):
    fid = work_at(placed, ST_ROMA)
    seen = []
    for step in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack()):
        order, work = await shop_app.fulfillment.work_on(fid, step, principal=roma)
        seen.append((work.status, order.status))
        assert held(store.levels)[(TEE, ST_ROMA)] == (6, 2)  # still reserved, still on hand

    order, work = await shop_app.fulfillment.work_on(
        fid, fulfilling.Ship("BRT", "BRT0001"), principal=roma)

    assert seen == [(FulfillmentStatus.ACCEPTED, OrderStatus.IN_FULFILLMENT),
                    (FulfillmentStatus.PICKED, OrderStatus.IN_FULFILLMENT),
                    (FulfillmentStatus.PACKED, OrderStatus.IN_FULFILLMENT)]
    assert (work.status, work.carrier, work.tracking_number, work.shipped_at) == (
        FulfillmentStatus.SHIPPED, "BRT", "BRT0001", NOW)
    assert (order.status, order.lines[0].status) == (OrderStatus.SHIPPED, LineStatus.SHIPPED)
    assert held(store.levels)[(TEE, ST_ROMA)] == (4, 0)
    assert store.ledger[-1] == LedgerEntry(TEE, ST_ROMA, -2, -2, "SHIPPED", placed.number,
                                           "store:st-roma@example.com", NOW)
    assert store.orders[placed.number].status is OrderStatus.SHIPPED


async def test_a_pickup_parcel_stays_reserved_until_collected_at_the_counter(shop_app, store,
                                                                            ada):
    order = await shop_app.checkout.place_order(order_of("pick-0001", (TEE, 1), pickup=ST_EUR),
                                                principal=ada)
    fid = work_at(order, ST_EUR)
    eur = associate(ST_EUR)
    for step in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
                 fulfilling.MarkReadyForPickup()):
        order, work = await shop_app.fulfillment.work_on(fid, step, principal=eur)
    assert (work.status, order.status) == (FulfillmentStatus.READY_FOR_PICKUP,
                                           OrderStatus.READY_FOR_PICKUP)
    assert held(store.levels)[(TEE, ST_EUR)] == (3, 1)  # on the shelf, still ours

    order, work = await shop_app.fulfillment.work_on(fid, fulfilling.ConfirmPickup(),
                                                     principal=eur)

    assert (work.status, order.status) == (FulfillmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert held(store.levels)[(TEE, ST_EUR)] == (2, 0)
    assert (store.ledger[-1].on_hand_delta, store.ledger[-1].reason) == (-1, "PICKED_UP")


async def test_a_delivery_scan_delivers_the_order_once(shop_app, store, placed, roma, clock):
    fid = work_at(placed, ST_ROMA)
    for step in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
                 fulfilling.Ship("BRT", "BRT0002")):
        await shop_app.fulfillment.work_on(fid, step, principal=roma)
    clock.current = DELIVERED_AT + timedelta(minutes=2)  # the carrier reports what happened

    scanned = [await shop_app.fulfillment.record_tracking_event(
        fid, status=TrackingStatus.DELIVERED, at=DELIVERED_AT, location="Roma",
        description=None, expected_delivery=None, principal=INTEGRATION)
        for _ in range(2)]  # carriers send the same scan again

    assert [s.ignored for s in scanned] == [None, ScanIgnored.DUPLICATE]
    order, work = scanned[-1].order, scanned[-1].fulfillment
    assert (order.status, order.lines[0].status) == (OrderStatus.DELIVERED,
                                                     LineStatus.DELIVERED)
    assert (work.status, work.delivered_at) == (FulfillmentStatus.DELIVERED, DELIVERED_AT)
    assert [s.status for s in store.orders[placed.number].fulfillments[0].tracking] == [
        TrackingStatus.DELIVERED]


async def test_a_store_associate_works_only_at_their_own_location(shop_app, store, placed):
    before = state(store)

    for stranger in (associate(ST_EUR), associate(WH_MIL)):
        with pytest.raises(errors.Forbidden):
            await shop_app.fulfillment.work_on(work_at(placed, ST_ROMA), fulfilling.Accept(),
                                               principal=stranger)
        with pytest.raises(errors.Forbidden):
            await shop_app.fulfillment.reject(work_at(placed, ST_ROMA), reason="NO_TIME",
                                              principal=stranger,
                                              permission="fulfillments.work")

    assert state(store) == before
    assert store.orders[placed.number].fulfillments[0].status is FulfillmentStatus.ASSIGNED


async def test_work_on_an_order_on_hold_does_not_move_forward(shop_app, store, placed, roma,
                                                             agent):
    await shop_app.service_desk.hold(placed.number, reason="FRAUD_CHECK", principal=agent)
    before = state(store)

    with pytest.raises(errors.IllegalTransition) as refused:
        await shop_app.fulfillment.work_on(work_at(placed, ST_ROMA), fulfilling.Accept(),
                                           principal=roma)

    assert refused.value.current == "ASSIGNED"
    assert state(store) == before
    await shop_app.service_desk.release(placed.number, reason=None, principal=agent)
    _, work = await shop_app.fulfillment.work_on(work_at(placed, ST_ROMA), fulfilling.Accept(),
                                                 principal=roma)
    assert work.status is FulfillmentStatus.ACCEPTED


# --- rejected work is re-sourced ----------------------------------------------------------------

async def test_rejected_work_moves_to_the_next_best_location_in_one_transaction(
        shop_app, store, placed, roma):
    outbox_before = len(store.outbox)

    done = await shop_app.fulfillment.reject(work_at(placed, ST_ROMA), reason="ITEM_NOT_FOUND",
                                             principal=roma, permission="fulfillments.work")

    assert (done.rejected.location, done.rejected.status, done.rejected.reason) == (
        ST_ROMA, FulfillmentStatus.REJECTED, "ITEM_NOT_FOUND")
    assert [(f.location, f.status, [(ln.sku, ln.quantity) for ln in f.lines])
            for f in done.created] == [(ST_EUR, FulfillmentStatus.ASSIGNED, [(TEE, 2)])]
    levels = held(store.levels)
    assert (levels[(TEE, ST_ROMA)], levels[(TEE, ST_EUR)]) == ((6, 0), (3, 2))
    # one commit wrote the release, the new reservation and the decision together
    assert [(e.location, e.reserved_delta, e.reason) for e in store.ledger[-2:]] == [
        (ST_ROMA, -2, "REJECTED"), (ST_EUR, 2, "RESOURCED")]
    latest, placement = await store.reader.sourcing_decisions(placed.number)
    assert (latest.kind, placement.kind) == ("RESOURCING", "PLACEMENT")
    assert [s.location for s in latest.decision.shipments] == [ST_EUR]
    stored = store.orders[placed.number]
    assert stored.status is OrderStatus.ALLOCATED
    assert [t.type for t in stored.timeline][-2:] == ["FULFILLMENT_REJECTED", "ORDER_RESOURCED"]
    assert len(store.outbox) > outbox_before


async def test_work_never_goes_back_to_a_location_that_rejected_it(shop_app, store, placed,
                                                                  roma):
    await shop_app.fulfillment.reject(work_at(placed, ST_ROMA), reason="ITEM_NOT_FOUND",
                                      principal=roma)
    order = store.orders[placed.number]
    second = await shop_app.fulfillment.reject(work_at(order, ST_EUR), reason="DAMAGED",
                                               principal=associate(ST_EUR))

    # ST-ROMA, nearest and still holding six tees, already said no
    assert [f.location for f in second.created] == [WH_MIL]
    third = await shop_app.fulfillment.reject(work_at(second.order, WH_MIL), reason="DAMAGED",
                                              principal=associate(WH_MIL))

    assert third.created == []
    assert third.order.status is OrderStatus.ON_HOLD
    assert "no other location can supply" in (third.order.hold_reason or "")
    assert [lv.reserved for (sku, _), lv in store.levels.items() if sku == TEE] == [0, 0, 0]


async def test_re_sourcing_that_loses_a_race_plans_again(shop_app, store, placed, roma):
    rival: list[Order] = []

    async def bob_collects_every_tee_at_st_eur(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        if not rival:
            rival.append(await shop_app.checkout.place_order(
                order_of("rival-0003", (TEE, 3), email="bob@example.com", pickup=ST_EUR),
                principal=BOB))
        return snapshot

    reader = RacingReader(store.reader, bob_collects_every_tee_at_st_eur)

    done = await racing(shop_app, reader).fulfillment.reject(
        work_at(placed, ST_ROMA), reason="ITEM_NOT_FOUND", principal=roma)

    assert [f.location for f in rival[0].fulfillments] == [ST_EUR]
    assert reader.snapshots == 2
    assert [f.location for f in done.created] == [WH_MIL]
    levels = held(store.levels)
    assert (levels[(TEE, ST_ROMA)], levels[(TEE, ST_EUR)], levels[(TEE, WH_MIL)]) == (
        (6, 0), (3, 3), (40, 2))
    assert oversold(store) == []
    assert [d.kind for d in await store.reader.sourcing_decisions(placed.number)] == [
        "RESOURCING", "PLACEMENT"]


# --- cancelling ---------------------------------------------------------------------------------

async def test_cancelling_an_unshipped_order_releases_its_reservation(shop_app, store, placed,
                                                                      roma, agent):
    await shop_app.fulfillment.work_on(work_at(placed, ST_ROMA), fulfilling.Accept(),
                                       principal=roma)

    order = await shop_app.service_desk.cancel(placed.number, skus=None,
                                               reason="CUSTOMER_REQUEST", principal=agent)

    assert order.status is OrderStatus.CANCELLED
    assert [f.status for f in order.fulfillments] == [FulfillmentStatus.CANCELLED]
    assert held(store.levels)[(TEE, ST_ROMA)] == (6, 0)
    assert (store.ledger[-1].reserved_delta, store.ledger[-1].reason) == (-2, "CANCELLED")
    assert store.orders[placed.number].status is OrderStatus.CANCELLED


async def test_a_shipped_order_can_no_longer_be_cancelled(shop_app, store, placed, roma,
                                                          agent):
    fid = work_at(placed, ST_ROMA)
    for step in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
                 fulfilling.Ship("BRT", "BRT0003")):
        await shop_app.fulfillment.work_on(fid, step, principal=roma)
    before = state(store)

    with pytest.raises(errors.IllegalTransition):
        await shop_app.service_desk.cancel(placed.number, skus=None, reason="TOO_LATE",
                                           principal=agent)

    assert state(store) == before


async def test_customers_cancel_only_their_own_orders_and_only_early(shop_app, store, placed,
                                                                     clock, ada):
    before = state(store)
    with pytest.raises(errors.NotFound):  # to Bob, Ada's order does not exist
        await shop_app.service_desk.cancel(placed.number, skus=None, reason="MISTAKE",
                                           principal=BOB)
    assert state(store) == before

    clock.current = placed.placed_at + timedelta(minutes=31)
    with pytest.raises(errors.CancellationWindowClosed):
        await shop_app.service_desk.cancel(placed.number, skus=None, reason="MISTAKE",
                                           principal=ada)
    assert state(store) == before

    clock.current = placed.placed_at + timedelta(minutes=29)
    order = await shop_app.service_desk.cancel(placed.number, skus=None, reason="MISTAKE",
                                               principal=ada)
    assert order.status is OrderStatus.CANCELLED
    assert held(store.levels)[(TEE, ST_ROMA)] == (6, 0)
