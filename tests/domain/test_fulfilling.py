"""Fulfillment work on the aggregate: shipping, carrier scans, backorders, events."""

from __future__ import annotations

import copy

import pytest

from domain.fulfillment import fulfilling, scans
from domain.fulfillment.fulfilling import StockMove
from domain.fulfillment.scans import ScanIgnored
from domain.kernel import errors
from domain.orders import FulfillmentStatus as F
from domain.orders import LineStatus as L
from domain.orders import OrderStatus as O
from domain.orders import TrackingScan
from domain.orders import TrackingStatus as T
from tests.domain.order_builders import later, order


def shipped_order():
    o = order(lines={"A": 2, "B": 1}, fulfillments=[("X", {"A": 2, "B": 1})])
    for command in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
                    fulfilling.Ship("BRT", "BRT1")):
        fulfilling.work(o, "f-0", command, actor="store:s", at=later(1))
    o.timeline.clear()
    o.events.clear()
    return o


def scan(status: T, minute: int, **kw) -> TrackingScan:
    return TrackingScan(status, later(minute), later(100), **kw)


def test_shipping_consumes_what_the_fulfillment_holds_and_records_the_parcel():
    o = order(lines={"A": 2, "B": 1}, fulfillments=[("X", {"A": 2, "B": 1})],
              status=O.IN_FULFILLMENT)
    o.fulfillments[0].status = F.PACKED

    moves = fulfilling.work(o, "f-0", fulfilling.Ship(" BRT ", "BRT123"), actor="store:s",
                            at=later(5))

    assert moves == [StockMove("A", "X", -2, -2, "SHIPPED"), StockMove("B", "X", -1, -1,
                                                                       "SHIPPED")]
    f = o.fulfillments[0]
    assert (f.status, f.carrier, f.tracking_number, f.shipped_at) == (
        F.SHIPPED, "BRT", "BRT123", later(5))
    assert o.status is O.SHIPPED and [ln.status for ln in o.lines] == [L.SHIPPED, L.SHIPPED]
    entry = o.timeline[-1]
    assert entry.message == "Shipped from X with BRT, tracking BRT123 (3 units)"
    assert entry.public == "Shipped with BRT, tracking number BRT123"
    event = o.events[-1]
    assert event.type == "FULFILLMENT_SHIPPED"
    assert event.streams == ("order:PR-000001", "orders", "location:X")
    assert event.payload == {"order": "PR-000001", "status": "SHIPPED", "fulfillment": "f-0",
                             "location": "X", "fulfillmentStatus": "SHIPPED"}


@pytest.mark.parametrize(("carrier", "number", "field"), [
    ("", "BRT1", ["carrier"]), ("BRT", " ", ["trackingNumber"]), ("x" * 65, "1", ["carrier"]),
    ("BRT", "1\n2", ["trackingNumber"])])
def test_shipping_needs_a_carrier_and_a_tracking_number(carrier, number, field):
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    o.fulfillments[0].status = F.PACKED
    before = copy.deepcopy(o)

    with pytest.raises(errors.InvalidInput) as refused:
        fulfilling.work(o, "f-0", fulfilling.Ship(carrier, number), actor="s", at=later(1))

    assert refused.value.field == field
    assert o == before


def test_carrier_scans_move_the_parcel_forward_and_say_so_in_plain_words():
    o = shipped_order()

    for status, minute in ((T.PICKED_UP, 10), (T.OUT_FOR_DELIVERY, 20), (T.DELIVERED, 30)):
        assert scans.record_scan(o, "f-0", scan(status, minute, location="Roma"),
                                 actor="integration:brt") is None

    assert o.fulfillments[0].status is F.DELIVERED
    assert o.fulfillments[0].delivered_at == later(30)
    assert o.status is O.DELIVERED
    assert [(t.type, t.before, t.after, t.public) for t in o.timeline] == [
        ("TRACKING_PICKED_UP", "SHIPPED", "IN_TRANSIT", "On its way"),
        ("TRACKING_OUT_FOR_DELIVERY", "IN_TRANSIT", "OUT_FOR_DELIVERY", "Out for delivery"),
        ("TRACKING_DELIVERED", "OUT_FOR_DELIVERY", "DELIVERED", "Delivered")]
    assert o.timeline[0].at == later(100)  # when we heard of it; the scan keeps its own time


def test_a_scan_sent_twice_is_stored_once():
    o = shipped_order()
    assert scans.record_scan(o, "f-0", scan(T.IN_TRANSIT, 10), actor="c") is None
    before = copy.deepcopy(o)

    assert scans.record_scan(o, "f-0", scan(T.IN_TRANSIT, 10),
                             actor="c") is ScanIgnored.DUPLICATE

    assert o == before


def test_an_out_of_order_scan_is_kept_but_never_moves_the_parcel_back():
    o = shipped_order()
    scans.record_scan(o, "f-0", scan(T.DELIVERED, 30), actor="c")

    assert scans.record_scan(o, "f-0", scan(T.OUT_FOR_DELIVERY, 20),
                             actor="c") is ScanIgnored.OLDER_THAN_NEWEST

    assert o.fulfillments[0].status is F.DELIVERED and o.status is O.DELIVERED
    assert [s.status for s in o.fulfillments[0].tracking] == [T.DELIVERED, T.OUT_FOR_DELIVERY]
    late = o.timeline[-1]
    assert (late.before, late.after, late.public) == (None, None, None)
    assert late.message.endswith("received after a newer scan, fulfillment stays DELIVERED")


def test_a_newer_scan_the_machine_does_not_allow_is_kept_without_moving():
    o = shipped_order()
    scans.record_scan(o, "f-0", scan(T.OUT_FOR_DELIVERY, 20), actor="c")

    ignored = [scans.record_scan(o, "f-0", scan(T.IN_TRANSIT, 25), actor="c"),
               scans.record_scan(o, "f-0", scan(T.LABEL_CREATED, 26), actor="c")]

    assert ignored == [ScanIgnored.STATUS_NOT_NEXT] * 2
    assert o.fulfillments[0].status is F.OUT_FOR_DELIVERY
    assert len(o.fulfillments[0].tracking) == 3


def test_a_scan_dated_after_the_clock_beyond_the_skew_is_refused_and_changes_nothing():
    o = shipped_order()
    before = copy.deepcopy(o)
    tolerance = int(scans.SCAN_FUTURE_TOLERANCE.total_seconds() // 60)

    with pytest.raises(errors.ScanInFuture) as refused:
        scans.record_scan(o, "f-0", scan(T.OUT_FOR_DELIVERY, 100 + tolerance + 1), actor="c")

    assert (refused.value.code, refused.value.field) == ("SCAN_IN_FUTURE", ["at"])
    assert o == before
    # within the skew it is news like any other scan
    assert scans.record_scan(o, "f-0", scan(T.OUT_FOR_DELIVERY, 100 + tolerance),
                             actor="c") is None
    assert o.fulfillments[0].status is F.OUT_FOR_DELIVERY


def test_scan_time_refuses_the_future_with_its_own_code_and_the_distant_past_as_input():
    now = later(0)

    with pytest.raises(errors.ScanInFuture):
        scans.scan_time(later(16), now=now)
    for bad in (later(-60 * 24 * 367), later(0).replace(tzinfo=None)):
        with pytest.raises(errors.InvalidInput) as refused:
            scans.scan_time(bad, now=now)
        assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", ["at"])
    assert scans.scan_time(later(15), now=now) == later(15)


def test_news_on_the_current_status_takes_effect_a_delay_after_delivery_does_not():
    o = shipped_order()
    scans.record_scan(o, "f-0", scan(T.PICKED_UP, 10), actor="c")

    assert scans.record_scan(o, "f-0", scan(T.IN_TRANSIT, 20, location="Bologna"),
                             actor="c") is None
    scans.record_scan(o, "f-0", scan(T.DELIVERED, 30), actor="c")
    assert scans.record_scan(o, "f-0", scan(T.DELAYED, 40),
                             actor="c") is ScanIgnored.STATUS_NOT_NEXT
    assert o.fulfillments[0].status is F.DELIVERED


def test_a_failed_delivery_is_attempted_again():
    o = shipped_order()
    scans.record_scan(o, "f-0", scan(T.DELIVERY_FAILED, 20, description="nobody home"),
                           actor="c")
    assert o.fulfillments[0].status is F.DELIVERY_FAILED and o.status is O.SHIPPED
    assert o.timeline[-1].public == "Delivery attempt failed: nobody home"

    scans.record_scan(o, "f-0", scan(T.OUT_FOR_DELIVERY, 40), actor="c")
    scans.record_scan(o, "f-0", scan(T.DELIVERED, 50), actor="c")

    assert o.fulfillments[0].status is F.DELIVERED and o.status is O.DELIVERED


def test_a_delay_is_told_on_the_timeline_without_changing_the_status():
    o = shipped_order()

    scans.record_scan(o, "f-0", scan(T.DELAYED, 20, description="weather"), actor="c")

    assert o.fulfillments[0].status is F.SHIPPED
    entry = o.timeline[-1]
    assert (entry.type, entry.public) == ("TRACKING_DELAYED", "Your delivery is delayed: weather")
    assert o.events[-1].type == "TRACKING_DELAYED"


@pytest.mark.parametrize("status", [F.ASSIGNED, F.ACCEPTED, F.PICKED, F.PACKED,
                                    F.READY_FOR_PICKUP, F.REJECTED, F.CANCELLED])
def test_carrier_scans_before_shipment_are_refused(status):
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    o.fulfillments[0].status = status
    before = copy.deepcopy(o)

    with pytest.raises(errors.IllegalTransition) as refused:
        scans.record_scan(o, "f-0", scan(T.DELIVERED, 10), actor="c")

    assert refused.value.message.startswith(
        f"fulfillment at X is {status.value}: cannot become DELIVERED (carrier events are "
        f"accepted once it has shipped); allowed next:")
    assert o == before


def test_received_stock_turns_a_backorder_into_work_at_the_location():
    o = order(lines={"A": 3}, fulfillments=[("X", {"A": 1})], backordered={"A": 2},
              status=O.PARTIALLY_ALLOCATED)

    moves = fulfilling.allocate_backorder(o, "line-A", units=5, location="W",
                                          fulfillment_id="new", actor="integration:erp",
                                          at=later(9))

    assert moves == [StockMove("A", "W", 0, 2, "BACKORDER_ALLOCATED")]  # never more than waits
    assert o.lines[0].backordered == 0 and o.lines[0].status is L.ALLOCATED
    assert o.status is O.ALLOCATED
    new = o.fulfillments[-1]
    assert (new.id, new.location, new.status, [(fl.sku, fl.quantity, fl.units)
                                               for fl in new.lines]) == (
        "new", "W", F.ASSIGNED, [("A", 2, 2)])
    assert o.events[-1].streams == ("order:PR-000001", "orders", "location:W")
