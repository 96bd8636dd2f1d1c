"""Customer service on the aggregate: cancel, hold, release, address, notes, tags."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from domain import service_desk
from domain.catalog import Address
from domain.fulfillment import fulfilling
from domain.fulfillment.fulfilling import StockMove
from domain.kernel import errors
from domain.orders import DeliveryMethod, OrderTag
from domain.orders import FulfillmentStatus as F
from domain.orders import LineStatus as L
from domain.orders import OrderStatus as O
from tests.domain.order_builders import AT, later, order

POLICY = service_desk.ServiceDeskPolicy(customer_cancel_window=timedelta(minutes=30))


def two_locations():
    """A: 2 at X (with B: 1), A: 1 at Y."""
    return order(lines={"A": 3, "B": 1}, fulfillments=[("X", {"A": 2, "B": 1}), ("Y", {"A": 1})])


def step(o, fid, *commands):
    for command in commands:
        fulfilling.work(o, fid, command, actor="store:s", at=later(1))


def cancel(o, skus=None):
    return service_desk.cancel(o, skus=skus, reason="CUSTOMER_REQUEST", actor="agent:ann",
                               at=later(2))


def test_cancelling_a_whole_order_releases_every_reservation():
    o = two_locations()

    done = cancel(o)

    assert done.moves == [StockMove("A", "X", 0, -2, "CANCELLED"),
                          StockMove("B", "X", 0, -1, "CANCELLED"),
                          StockMove("A", "Y", 0, -1, "CANCELLED")]
    assert done.incoming == []
    assert o.status is O.CANCELLED
    assert [(f.status, f.reason) for f in o.fulfillments] == [
        (F.CANCELLED, "CUSTOMER_REQUEST"), (F.CANCELLED, "CUSTOMER_REQUEST")]
    assert [(ln.status, ln.cancelled) for ln in o.lines] == [(L.CANCELLED, 3), (L.CANCELLED, 1)]
    entry = o.timeline[-1]
    assert (entry.type, entry.message, entry.before, entry.after, entry.actor) == (
        "ORDER_CANCELLED", "Order cancelled: CUSTOMER_REQUEST", "ALLOCATED", "CANCELLED",
        "agent:ann")
    assert o.events[-1].streams == ("order:PR-000001", "orders")


def test_an_agent_cancels_after_partial_picking_and_picked_units_are_released_too():
    o = two_locations()
    step(o, "f-0", fulfilling.Accept(), fulfilling.Pick())

    done = cancel(o)

    assert done.moves == [StockMove("A", "X", 0, -2, "CANCELLED"),
                          StockMove("B", "X", 0, -1, "CANCELLED"),
                          StockMove("A", "Y", 0, -1, "CANCELLED")]
    assert o.status is O.CANCELLED
    assert o.timeline[-1].before == "IN_FULFILLMENT"


def test_cancelling_one_line_takes_it_out_of_shared_work_and_cancels_work_left_empty():
    o = two_locations()

    done = cancel(o, ["A"])

    assert done.moves == [StockMove("A", "X", 0, -2, "CANCELLED"),
                          StockMove("A", "Y", 0, -1, "CANCELLED")]
    x, y = o.fulfillments
    assert (x.status, [fl.sku for fl in x.lines]) == (F.ASSIGNED, ["B"])
    assert (y.status, [fl.sku for fl in y.lines]) == (F.CANCELLED, ["A"])
    assert [ln.status for ln in o.lines] == [L.CANCELLED, L.ALLOCATED]
    assert o.status is O.ALLOCATED
    assert o.timeline[-1].type == "LINES_CANCELLED"
    assert o.timeline[-1].public == "A cancelled"


def test_a_whole_order_cannot_be_cancelled_once_something_shipped():
    o = two_locations()
    step(o, "f-1", fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
         fulfilling.Ship("BRT", "1"))
    before = copy.deepcopy(o)

    with pytest.raises(errors.IllegalTransition) as refused:
        cancel(o)

    assert refused.value.message == (
        "order PR-000001 is PARTIALLY_SHIPPED: cannot become CANCELLED; allowed next: "
        "SHIPPED, DELIVERED, ON_HOLD")
    assert o == before


def test_the_unshipped_line_of_a_partly_shipped_order_can_still_be_cancelled():
    o = order(lines={"A": 1, "B": 1}, fulfillments=[("X", {"A": 1}), ("Y", {"B": 1})])
    step(o, "f-0", fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
         fulfilling.Ship("BRT", "1"))

    done = cancel(o, ["B"])

    assert done.moves == [StockMove("B", "Y", 0, -1, "CANCELLED")]
    assert o.status is O.SHIPPED
    with pytest.raises(errors.IllegalTransition) as refused:
        cancel(o, ["A"])
    assert refused.value.field == ["skus", "0"]
    assert refused.value.message.startswith("line A is SHIPPED: cannot become CANCELLED")


def test_cancelling_a_backordered_line_frees_its_promise_on_the_receipt():
    o = order(lines={"A": 3}, fulfillments=[("X", {"A": 1})], backordered={"A": 2},
              status=O.PARTIALLY_ALLOCATED)

    done = cancel(o)

    assert done.incoming == [("incoming-1", 2)]
    assert done.moves == [StockMove("A", "X", 0, -1, "CANCELLED")]
    assert (o.lines[0].backordered, o.lines[0].cancelled) == (0, 3)


@pytest.mark.parametrize(("skus", "field"), [([], ["skus"]), (["A", "A"], ["skus"]),
                                             (["NOPE"], ["skus", "0"])])
def test_cancelling_unknown_or_repeated_lines_is_invalid(skus, field):
    with pytest.raises(errors.InvalidInput) as refused:
        cancel(two_locations(), skus)
    assert refused.value.field == field


def test_a_customer_cancels_within_the_window_while_nothing_is_picked():
    o = two_locations()
    step(o, "f-0", fulfilling.Accept())
    service_desk.check_customer_cancel(o, now=AT + timedelta(minutes=30), policy=POLICY)

    with pytest.raises(errors.CancellationWindowClosed) as late:
        service_desk.check_customer_cancel(o, now=AT + timedelta(minutes=31), policy=POLICY)
    assert late.value.code == "CANCELLATION_WINDOW_CLOSED"
    assert "within 30 minutes" in late.value.message

    step(o, "f-0", fulfilling.Pick())
    with pytest.raises(errors.IllegalTransition) as picked:
        service_desk.check_customer_cancel(o, now=AT, policy=POLICY)
    assert "its items are already picked" in picked.value.message


def test_hold_and_release_follow_the_order_machine():
    o = two_locations()
    service_desk.hold(o, reason="FRAUD_CHECK", actor="agent:ann", at=later(1))
    assert (o.status, o.hold_reason) == (O.ON_HOLD, "FRAUD_CHECK")

    with pytest.raises(errors.IllegalTransition) as twice:
        service_desk.hold(o, reason="AGAIN", actor="agent:ann", at=later(2))
    assert twice.value.message.startswith("order PR-000001 is ON_HOLD: cannot become ON_HOLD")

    service_desk.release_hold(o, reason="verified", actor="agent:ann", at=later(3))
    assert (o.status, o.hold_reason) == (O.ALLOCATED, None)
    assert [(t.type, t.before, t.after) for t in o.timeline] == [
        ("ORDER_HELD", "ALLOCATED", "ON_HOLD"), ("ORDER_RELEASED", "ON_HOLD", "ALLOCATED")]
    assert o.timeline[-1].message == "Hold released (FRAUD_CHECK): verified"

    with pytest.raises(errors.IllegalTransition) as not_held:
        service_desk.release_hold(o, reason=None, actor="agent:ann", at=later(4))
    assert "(it is not on hold)" in not_held.value.message


def test_a_shipped_order_cannot_be_held():
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    step(o, "f-0", fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
         fulfilling.Ship("BRT", "1"))

    with pytest.raises(errors.IllegalTransition) as refused:
        service_desk.hold(o, reason="LATE", actor="agent:ann", at=later(5))

    assert refused.value.current == "SHIPPED" and refused.value.allowed == (O.DELIVERED,)


NEW_ADDRESS = Address("Via Appia 5", "Roma", "00179", "IT")


def test_the_shipping_address_changes_before_shipment_with_before_and_after():
    o = two_locations()

    service_desk.update_shipping_address(o, NEW_ADDRESS, actor="agent:ann", at=later(1))

    assert o.delivery.address == NEW_ADDRESS
    entry = o.timeline[-1]
    assert (entry.type, entry.before, entry.after) == (
        "SHIPPING_ADDRESS_UPDATED", "Via Nazionale 10, 00184 Roma, IT",
        "Via Appia 5, 00179 Roma, IT")


def test_the_shipping_address_cannot_change_after_shipment_nor_for_pickups_nor_abroad():
    shipped = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    step(shipped, "f-0", fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
         fulfilling.Ship("BRT", "1"))
    with pytest.raises(errors.IllegalTransition) as after:
        service_desk.update_shipping_address(shipped, NEW_ADDRESS, actor="a", at=later(2))
    assert after.value.message == (
        "order PR-000001 is SHIPPED: cannot be changed this way (the shipping address cannot "
        "change once a parcel has left); allowed next: DELIVERED")

    pickup = order(lines={"A": 1}, fulfillments=[("ST", {"A": 1})],
                   method=DeliveryMethod.PICKUP)
    with pytest.raises(errors.InvalidInput):
        service_desk.update_shipping_address(pickup, NEW_ADDRESS, actor="a", at=later(2))

    abroad = Address("Unter den Linden 1", "Berlin", "10117", "DE")
    with pytest.raises(errors.InvalidAddress) as country:
        service_desk.update_shipping_address(two_locations(), abroad, actor="a", at=later(2))
    assert country.value.field == ["address", "country"]


def test_notes_and_tags_are_recorded_for_staff_only():
    o = two_locations()

    service_desk.add_note(o, text="  customer called about gift wrap ", actor="agent:ann",
                          at=later(1))
    service_desk.retag(o, add=frozenset({OrderTag.GIFT, OrderTag.VIP}), remove=frozenset(),
                       actor="agent:ann", at=later(2))
    service_desk.retag(o, add=frozenset({OrderTag.GIFT}), remove=frozenset(),
                       actor="agent:ann", at=later(3))  # no change, nothing recorded
    service_desk.retag(o, add=frozenset(), remove=frozenset({OrderTag.VIP}), actor="agent:ann",
                       at=later(4))

    assert o.tags == {OrderTag.GIFT}
    assert [(t.type, t.message, t.before, t.after, t.public) for t in o.timeline] == [
        ("NOTE_ADDED", "customer called about gift wrap", None, None, None),
        ("TAGS_CHANGED", "Tags: GIFT, VIP", "", "GIFT, VIP", None),
        ("TAGS_CHANGED", "Tags: GIFT", "GIFT, VIP", "GIFT", None)]
    with pytest.raises(errors.InvalidInput):
        service_desk.add_note(o, text=" ", actor="agent:ann", at=later(5))
    with pytest.raises(errors.InvalidInput):
        service_desk.add_note(o, text="x" * 1001, actor="agent:ann", at=later(5))


def test_cancelling_the_whole_order_after_one_line_cancels_the_rest():
    o = two_locations()
    cancel(o, ["B"])

    done = cancel(o)

    assert done.moves == [StockMove("A", "X", 0, -2, "CANCELLED"),
                          StockMove("A", "Y", 0, -1, "CANCELLED")]
    assert o.status is O.CANCELLED
    assert [(ln.status, ln.cancelled) for ln in o.lines] == [(L.CANCELLED, 3), (L.CANCELLED, 1)]
    with pytest.raises(errors.IllegalTransition) as again:
        cancel(o)
    assert again.value.message.startswith("order PR-000001 is CANCELLED: cannot become "
                                          "CANCELLED")
