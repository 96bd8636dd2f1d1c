"""The status machines: every transition of every machine, legal and illegal, and derivation."""

from __future__ import annotations

import copy
import itertools

import pytest

from domain.fulfillment import fulfilling
from domain.kernel import errors
from domain.orders import DeliveryMethod as M
from domain.orders import Fulfillment, FulfillmentLine, Order, lifecycle
from domain.orders import FulfillmentStatus as F
from domain.orders import LineStatus as L
from domain.orders import OrderStatus as O
from domain.orders.lifecycle import LineUnits, WorkContext
from tests.domain.order_builders import order

SHIP, PICKUP = WorkContext(M.SHIP), WorkContext(M.PICKUP)

# SPEC §2, written out independently of domain/orders/lifecycle.py:
# (from, to) → methods allowing it.
BOTH = {M.SHIP, M.PICKUP}
EXPECTED_FULFILLMENT = {
    (F.ASSIGNED, F.ACCEPTED): BOTH, (F.ASSIGNED, F.REJECTED): BOTH,
    (F.ASSIGNED, F.CANCELLED): BOTH,
    (F.ACCEPTED, F.PICKED): BOTH, (F.ACCEPTED, F.REJECTED): BOTH,
    (F.ACCEPTED, F.CANCELLED): BOTH,
    (F.PICKED, F.PACKED): BOTH, (F.PICKED, F.CANCELLED): BOTH,
    (F.PACKED, F.SHIPPED): {M.SHIP}, (F.PACKED, F.READY_FOR_PICKUP): {M.PICKUP},
    (F.PACKED, F.CANCELLED): BOTH,
    (F.SHIPPED, F.IN_TRANSIT): BOTH, (F.SHIPPED, F.OUT_FOR_DELIVERY): BOTH,
    (F.SHIPPED, F.DELIVERY_FAILED): BOTH, (F.SHIPPED, F.DELIVERED): BOTH,
    (F.IN_TRANSIT, F.OUT_FOR_DELIVERY): BOTH, (F.IN_TRANSIT, F.DELIVERY_FAILED): BOTH,
    (F.IN_TRANSIT, F.DELIVERED): BOTH,
    (F.OUT_FOR_DELIVERY, F.DELIVERY_FAILED): BOTH, (F.OUT_FOR_DELIVERY, F.DELIVERED): BOTH,
    (F.DELIVERY_FAILED, F.IN_TRANSIT): BOTH, (F.DELIVERY_FAILED, F.OUT_FOR_DELIVERY): BOTH,
    (F.DELIVERY_FAILED, F.DELIVERED): BOTH,
    (F.READY_FOR_PICKUP, F.DELIVERED): {M.PICKUP}, (F.READY_FOR_PICKUP, F.CANCELLED): BOTH,
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(F, F)),
                         ids=lambda s: s.value)
@pytest.mark.parametrize("method", list(M), ids=lambda m: m.value)
def test_fulfillment_transition_is_legal_exactly_where_spec_says(current, target, method):
    legal = method in EXPECTED_FULFILLMENT.get((current, target), set())
    f = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})]).fulfillments[0]
    f.status = current

    if legal:
        lifecycle.check_fulfillment(f, target, WorkContext(method))
        assert target in lifecycle.fulfillment_next(current, WorkContext(method))
    else:
        with pytest.raises(errors.IllegalTransition) as refused:
            lifecycle.check_fulfillment(f, target, WorkContext(method))
        allowed = lifecycle.fulfillment_next(current, WorkContext(method))
        assert refused.value.code == "INVALID_TRANSITION"
        assert refused.value.current == current and refused.value.allowed == allowed
        assert refused.value.message == (
            f"fulfillment at X is {current.value}: cannot become {target.value}; allowed "
            f"next: {', '.join(allowed) or 'none'}")


def test_terminal_fulfillment_statuses_allow_nothing():
    for status in (F.DELIVERED, F.REJECTED, F.CANCELLED):
        assert lifecycle.fulfillment_next(status, SHIP) == ()
        assert lifecycle.fulfillment_next(status, PICKUP) == ()


COMMANDS = [fulfilling.Accept(), fulfilling.Reject("ITEM_NOT_FOUND"), fulfilling.Pick(),
            fulfilling.Pack(), fulfilling.Ship("BRT", "BRT1"), fulfilling.MarkReadyForPickup(),
            fulfilling.ConfirmPickup()]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("start", [F.ASSIGNED, F.ACCEPTED, F.PICKED, F.PACKED,
                                   F.READY_FOR_PICKUP, F.SHIPPED, F.DELIVERED, F.REJECTED,
                                   F.CANCELLED], ids=lambda s: s.value)
@pytest.mark.parametrize("method", list(M), ids=lambda m: m.value)
def test_each_command_from_each_status_moves_or_is_refused_changing_nothing(
        command, start, method):
    o = order(lines={"A": 2}, fulfillments=[("X", {"A": 2})], method=method)
    o.fulfillments[0].status = start
    o.status = lifecycle.derive_order_status(lifecycle.order_units(o), on_hold=False)
    for line in o.lines:
        line.status = lifecycle.derive_line_status(lifecycle.line_units(o)[line.id])
    target = fulfilling.TARGET[type(command)]
    before = copy.deepcopy(o)

    if method in EXPECTED_FULFILLMENT.get((start, target), set()):
        moves = fulfilling.work(o, "f-0", command, actor="store:s", at=before.placed_at)
        assert o.fulfillments[0].status is target
        held = ["ORDER_HELD"] if target is F.REJECTED else []  # nowhere else to go
        assert [e.type for e in o.timeline] == [f"FULFILLMENT_{target.value}", *held]
        assert (o.timeline[0].before, o.timeline[0].after) == (start.value, target.value)
        expected_moves = {F.SHIPPED: [fulfilling.StockMove("A", "X", -2, -2, "SHIPPED")],
                          F.DELIVERED: [fulfilling.StockMove("A", "X", -2, -2, "PICKED_UP")],
                          F.REJECTED: [fulfilling.StockMove("A", "X", 0, -2, "REJECTED")]}
        assert moves == expected_moves.get(target, [])
    else:
        with pytest.raises(errors.IllegalTransition) as refused:
            fulfilling.work(o, "f-0", command, actor="store:s", at=before.placed_at)
        assert refused.value.code == "INVALID_TRANSITION"
        assert f"is {start.value}: cannot become {target.value}" in refused.value.message
        assert o == before


def test_a_held_order_takes_no_step_forward_but_can_still_be_rejected():
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    o.hold_reason, o.status = "fraud check", O.ON_HOLD
    before = copy.deepcopy(o)

    with pytest.raises(errors.IllegalTransition) as refused:
        fulfilling.work(o, "f-0", fulfilling.Accept(), actor="store:s", at=o.placed_at)

    assert refused.value.message == (
        "fulfillment at X is ASSIGNED: cannot become ACCEPTED (order PR-000001 is on hold: "
        "fraud check; an agent must release it first); allowed next: REJECTED, CANCELLED")
    assert o == before
    fulfilling.work(o, "f-0", fulfilling.Reject("DAMAGED"), actor="store:s", at=o.placed_at)
    assert (o.fulfillments[0].status, o.status) == (F.REJECTED, O.ON_HOLD)
    assert o.hold_reason == "fraud check"  # the first reason stays


def test_rejecting_with_nowhere_else_to_go_puts_the_order_on_hold_for_an_agent():
    o = order(lines={"A": 1, "B": 1}, fulfillments=[("X", {"A": 1}), ("Y", {"B": 1})])

    moves = fulfilling.work(o, "f-1", fulfilling.Reject("NO_CAPACITY"), actor="store:s",
                            at=o.placed_at)

    assert moves == [fulfilling.StockMove("B", "Y", 0, -1, "REJECTED")]
    assert o.status is O.ON_HOLD
    assert o.hold_reason == "Y rejected: NO_CAPACITY; no other location can supply 1 × B"
    assert [ln.status for ln in o.lines] == [L.ALLOCATED, L.UNALLOCATED]
    assert o.fulfillments[1].reason == "NO_CAPACITY"


@pytest.mark.parametrize(("units", "expected"), [
    (LineUnits(3, assigned=3), L.ALLOCATED),
    (LineUnits(3, working=1, ready=2), L.ALLOCATED),
    (LineUnits(3, assigned=1, backordered=2), L.PARTIALLY_ALLOCATED),
    (LineUnits(3, assigned=2), L.PARTIALLY_ALLOCATED),  # one unit's location rejected it
    (LineUnits(3, backordered=3), L.BACKORDERED),
    (LineUnits(3), L.UNALLOCATED),
    (LineUnits(3, cancelled=1), L.UNALLOCATED),
    (LineUnits(3, with_carrier=1, assigned=2), L.PARTIALLY_SHIPPED),
    (LineUnits(3, delivered=1, backordered=2), L.PARTIALLY_SHIPPED),
    (LineUnits(3, with_carrier=2, delivered=1), L.SHIPPED),
    (LineUnits(3, cancelled=1, with_carrier=2), L.SHIPPED),
    (LineUnits(3, delivered=3), L.DELIVERED),
    (LineUnits(3, cancelled=2, delivered=1), L.DELIVERED),
    (LineUnits(3, cancelled=3), L.CANCELLED),
])
def test_line_status_is_derived_from_where_its_units_are(units, expected):
    assert lifecycle.derive_line_status(units) is expected


@pytest.mark.parametrize(("units", "on_hold", "expected"), [
    (LineUnits(4), False, O.PLACED),
    (LineUnits(4, assigned=4), False, O.ALLOCATED),
    (LineUnits(4, assigned=3, backordered=1), False, O.PARTIALLY_ALLOCATED),
    (LineUnits(4, backordered=3), False, O.PARTIALLY_ALLOCATED),
    (LineUnits(4, backordered=4), False, O.BACKORDERED),
    (LineUnits(4, assigned=3, working=1), False, O.IN_FULFILLMENT),
    (LineUnits(4, ready=1, backordered=3), False, O.IN_FULFILLMENT),
    (LineUnits(4, ready=4), False, O.READY_FOR_PICKUP),
    (LineUnits(4, with_carrier=1, assigned=3), False, O.PARTIALLY_SHIPPED),
    (LineUnits(4, delivered=1, ready=3), False, O.PARTIALLY_SHIPPED),
    (LineUnits(4, with_carrier=3, delivered=1), False, O.SHIPPED),
    (LineUnits(4, delivered=4), False, O.DELIVERED),
    (LineUnits(4, cancelled=3, delivered=1), False, O.DELIVERED),
    (LineUnits(4, assigned=4), True, O.ON_HOLD),
    (LineUnits(4, with_carrier=2, assigned=2), True, O.ON_HOLD),
    (LineUnits(4, cancelled=4), True, O.CANCELLED),
    (LineUnits(4, cancelled=4), False, O.CANCELLED),
])
def test_order_status_is_derived_from_units_and_hold(units, on_hold, expected):
    assert lifecycle.derive_order_status(units, on_hold=on_hold) is expected


# Lines move forward only: allocation changes (backorders received, work rejected) before any
# unit ships, then shipped and delivered; cancelled and delivered are final.
EXPECTED_LINE = {
    L.UNALLOCATED: {L.ALLOCATED, L.PARTIALLY_ALLOCATED, L.BACKORDERED, L.CANCELLED},
    L.ALLOCATED: {L.PARTIALLY_SHIPPED, L.SHIPPED, L.DELIVERED, L.PARTIALLY_ALLOCATED,
                  L.BACKORDERED, L.UNALLOCATED, L.CANCELLED},
    L.PARTIALLY_ALLOCATED: {L.ALLOCATED, L.BACKORDERED, L.UNALLOCATED, L.PARTIALLY_SHIPPED,
                            L.CANCELLED},
    L.BACKORDERED: {L.ALLOCATED, L.PARTIALLY_ALLOCATED, L.CANCELLED},
    L.PARTIALLY_SHIPPED: {L.SHIPPED, L.DELIVERED},
    L.SHIPPED: {L.DELIVERED},
    L.DELIVERED: set(),
    L.CANCELLED: set(),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(L, L)),
                         ids=lambda s: s.value)
def test_line_transition_is_legal_exactly_where_expected(current, target):
    o = order(lines={"A": 1}, fulfillments=[])
    o.lines[0].status = current

    if target in EXPECTED_LINE[current]:
        lifecycle.check_line(o, o.lines[0], target)
    else:
        with pytest.raises(errors.IllegalTransition) as refused:
            lifecycle.check_line(o, o.lines[0], target)
        assert refused.value.message.startswith(
            f"line A of order PR-000001 is {current.value}: cannot become {target.value}")


@pytest.mark.parametrize(("status", "cancellable"), [
    (L.UNALLOCATED, True), (L.ALLOCATED, True), (L.PARTIALLY_ALLOCATED, True),
    (L.BACKORDERED, True), (L.PARTIALLY_SHIPPED, False), (L.SHIPPED, False),
    (L.DELIVERED, False), (L.CANCELLED, False)])
def test_a_line_may_be_cancelled_only_before_any_unit_ships(status, cancellable):
    line = order(lines={"A": 1}, fulfillments=[]).lines[0]
    line.status = status
    assert lifecycle.line_may_be_cancelled(line) is cancellable


def test_settle_refuses_a_derived_change_the_line_table_does_not_allow():
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})])
    o.lines[0].status = L.DELIVERED  # a corrupt state: the units say ALLOCATED

    with pytest.raises(errors.IllegalTransition) as refused:
        lifecycle.settle(o)

    assert refused.value.message == (
        "line A of order PR-000001 is DELIVERED: cannot become ALLOCATED; allowed next: none")


def test_settle_refuses_a_derived_change_the_order_table_does_not_allow():
    o = order(lines={"A": 1}, fulfillments=[("X", {"A": 1})], status=O.SHIPPED)

    with pytest.raises(errors.IllegalTransition) as refused:
        lifecycle.settle(o)

    assert refused.value.current == "SHIPPED" and refused.value.target == "ALLOCATED"
    assert o.status is O.SHIPPED


@pytest.mark.parametrize(("current", "target"), list(itertools.product(O, O)),
                         ids=lambda s: s.value)
def test_check_order_follows_the_order_table(current, target):
    o = order(lines={"A": 1}, fulfillments=[], status=current)
    if target in lifecycle.ORDER_TRANSITIONS[current]:
        lifecycle.check_order(o, target)
    else:
        with pytest.raises(errors.IllegalTransition) as refused:
            lifecycle.check_order(o, target)
        assert refused.value.allowed == lifecycle.ORDER_TRANSITIONS[current]


def test_no_order_goes_back_once_shipped_and_terminal_states_are_final():
    after_shipment = {O.PARTIALLY_SHIPPED, O.SHIPPED, O.DELIVERED, O.COMPLETED,
                      O.PARTIALLY_RETURNED, O.RETURNED}
    before_shipment = {O.PLACED, O.ALLOCATED, O.PARTIALLY_ALLOCATED, O.BACKORDERED,
                       O.IN_FULFILLMENT, O.READY_FOR_PICKUP}
    for status in after_shipment:
        assert not set(lifecycle.ORDER_TRANSITIONS[status]) & before_shipment, status
        assert O.CANCELLED not in lifecycle.ORDER_TRANSITIONS[status]
    for status in before_shipment | {O.ON_HOLD}:
        assert O.CANCELLED in lifecycle.ORDER_TRANSITIONS[status]
    assert lifecycle.ORDER_TRANSITIONS[O.CANCELLED] == ()
    assert lifecycle.ORDER_TRANSITIONS[O.RETURNED] == ()
    assert lifecycle.LINE_TRANSITIONS[L.CANCELLED] == lifecycle.LINE_TRANSITIONS[L.DELIVERED] == ()


# --- rejection re-sourced (the plan comes from the sourcing engine) ---------------------------

def _work(location: str, sku: str, units: int, fid: str = "f-new") -> Fulfillment:
    return Fulfillment(fid, location, F.ASSIGNED, [FulfillmentLine(f"line-{sku}", sku, units,
                                                                   units)])


def test_a_rejection_re_sourced_elsewhere_keeps_the_order_going():
    o = order(lines={"A": 2}, fulfillments=[("ST", {"A": 2})])
    plan = fulfilling.Reroute((_work("WH", "A", 2),))

    moves = fulfilling.reroute(o, "f-0", plan, reason="DAMAGED", actor="store:s",
                               at=o.placed_at)

    assert moves == [fulfilling.StockMove("A", "ST", 0, -2, "REJECTED"),
                     fulfilling.StockMove("A", "WH", 0, 2, "RESOURCED")]
    assert [(f.location, f.status, f.reason) for f in o.fulfillments] == [
        ("ST", F.REJECTED, "DAMAGED"), ("WH", F.ASSIGNED, None)]
    assert (o.status, o.hold_reason, o.lines[0].status) == (O.ALLOCATED, None, L.ALLOCATED)
    assert [(t.type, t.message) for t in o.timeline] == [
        ("FULFILLMENT_REJECTED", "ST rejected its fulfillment (2 units): DAMAGED"),
        ("ORDER_RESOURCED", "2 units re-sourced to WH after ST rejected them")]
    assert [(e.type, e.streams) for e in o.events] == [
        ("FULFILLMENT_REJECTED", ("order:PR-000001", "orders", "location:ST")),
        ("ORDER_RESOURCED", ("order:PR-000001", "orders")),
        ("FULFILLMENT_CREATED", ("location:WH",))]


def test_accepted_work_rejected_goes_back_to_allocated_at_its_new_home():
    o = order(lines={"A": 1, "B": 1}, fulfillments=[("ST", {"A": 1}), ("X", {"B": 1})])
    o.fulfillments[0].status, o.status = F.ACCEPTED, O.IN_FULFILLMENT

    fulfilling.reroute(o, "f-0", fulfilling.Reroute((_work("WH", "A", 1),)), reason="NO",
                       actor="s", at=o.placed_at)

    assert o.status is O.ALLOCATED


def test_units_only_incoming_stock_can_supply_are_backordered_against_it():
    # the new edges: ALLOCATED → BACKORDERED (line and order), ALLOCATED → PARTIALLY_ALLOCATED
    o = order(lines={"A": 2}, fulfillments=[("ST", {"A": 2})])
    plan = fulfilling.Reroute(backorders=(fulfilling.Waiting("line-A", 2, "in-7", "WH"),))

    moves = fulfilling.reroute(o, "f-0", plan, reason="DAMAGED", actor="s", at=o.placed_at)

    assert moves == [fulfilling.StockMove("A", "ST", 0, -2, "REJECTED")]
    assert (o.status, o.hold_reason) == (O.BACKORDERED, None)
    assert (o.lines[0].status, o.lines[0].backordered, o.lines[0].incoming_id) == (
        L.BACKORDERED, 2, "in-7")
    assert [t.type for t in o.timeline] == ["FULFILLMENT_REJECTED", "BACKORDERED"]

    o = order(lines={"A": 2}, fulfillments=[("ST", {"A": 2})])
    plan = fulfilling.Reroute((_work("WH", "A", 1),),
                              (fulfilling.Waiting("line-A", 1, "in-7"),))
    fulfilling.reroute(o, "f-0", plan, reason="DAMAGED", actor="s", at=o.placed_at)
    assert (o.status, o.lines[0].status) == (O.PARTIALLY_ALLOCATED, L.PARTIALLY_ALLOCATED)


def test_what_the_plan_cannot_place_holds_the_order_and_says_what_is_missing():
    o = order(lines={"A": 3}, fulfillments=[("ST", {"A": 3})])

    fulfilling.reroute(o, "f-0", fulfilling.Reroute((_work("WH", "A", 1),)),
                       reason="ITEM_NOT_FOUND", actor="s", at=o.placed_at)

    assert o.status is O.ON_HOLD
    assert o.hold_reason == ("ST rejected: ITEM_NOT_FOUND; no other location can supply "
                             "2 × A")
    assert o.lines[0].status is L.PARTIALLY_ALLOCATED
    assert [t.type for t in o.timeline] == ["FULFILLMENT_REJECTED", "ORDER_RESOURCED",
                                            "ORDER_HELD"]
    assert (o.timeline[-1].before, o.timeline[-1].after) == ("ALLOCATED", "ON_HOLD")


def test_a_held_order_keeps_its_first_hold_reason_when_work_is_re_sourced():
    o = order(lines={"A": 1}, fulfillments=[("ST", {"A": 1})])
    o.hold_reason, o.status = "fraud check", O.ON_HOLD

    fulfilling.reroute(o, "f-0", fulfilling.Reroute((_work("WH", "A", 1),)), reason="NO",
                       actor="s", at=o.placed_at)

    assert (o.status, o.hold_reason) == (O.ON_HOLD, "fraud check")
    assert [f.status for f in o.fulfillments] == [F.REJECTED, F.ASSIGNED]


@pytest.mark.parametrize("start", [F.PICKED, F.PACKED, F.SHIPPED, F.REJECTED, F.CANCELLED])
def test_work_past_acceptance_cannot_be_rejected_and_nothing_changes(start):
    o = order(lines={"A": 1}, fulfillments=[("ST", {"A": 1})])
    o.fulfillments[0].status = start
    before = copy.deepcopy(o)

    with pytest.raises(errors.IllegalTransition):
        fulfilling.reroute(o, "f-0", fulfilling.Reroute((_work("WH", "A", 1),)), reason="NO",
                           actor="s", at=o.placed_at)

    assert o == before


def _delivered() -> Order:
    o = order(lines={"A": 2}, fulfillments=[("W", {"A": 2})], status=O.DELIVERED)
    o.fulfillments[0].status = F.DELIVERED
    for line in o.lines:
        line.status = L.DELIVERED
    return o


def test_only_a_delivered_order_is_completed_and_completion_stays():
    o = _delivered()
    lifecycle.complete(o, "window closed", actor="system", at=o.placed_at)
    assert (o.status, o.timeline[-1].type, o.events[-1].type) == (
        O.COMPLETED, "ORDER_COMPLETED", "ORDER_COMPLETED")
    # its units still say DELIVERED: completion is not undone by deriving statuses again
    assert lifecycle.settle(o) == (O.COMPLETED, O.COMPLETED)
    with pytest.raises(errors.IllegalTransition):
        lifecycle.complete(o, "again", actor="system", at=o.placed_at)
    shipped = order(lines={"A": 1}, fulfillments=[("W", {"A": 1})], status=O.SHIPPED)
    with pytest.raises(errors.IllegalTransition) as refused:
        lifecycle.complete(shipped, "early", actor="system", at=shipped.placed_at)
    assert (refused.value.current, shipped.status, shipped.timeline) == ("SHIPPED", O.SHIPPED, [])
