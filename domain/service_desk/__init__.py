"""Customer service on the order aggregate: cancel, hold, release, address, notes, tags.

The service desk context: customer service on the order (cancel, hold, address, notes, tags),
the customer view of the console and operations KPIs.

May use: kernel, access, catalog, inventory, orders, fulfillment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.catalog import Address
from domain.fulfillment.fulfilling import StockMove, release
from domain.inventory import check_reason
from domain.kernel import errors
from domain.orders import (
    DeliveryMethod,
    FulfillmentStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderTag,
    lifecycle,
)
from domain.orders.lifecycle import OPEN

MAX_NOTE = 1000
# Before anything leaves a location, the customer may still change their mind themselves.
CUSTOMER_CANCELLABLE = frozenset({FulfillmentStatus.ASSIGNED, FulfillmentStatus.ACCEPTED})


@dataclass(frozen=True, slots=True)
class ServiceDeskPolicy:
    """What customers may do on their own at the service desk (today: how long after placing
    they may cancel), set from the edge."""

    customer_cancel_window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """What cancelling changed outside the order: stock and receipts to release."""

    moves: list[StockMove]
    incoming: list[tuple[str, int]]  # (incoming id, backordered units no longer waiting)


def check_customer_cancel(order: Order, *, now: datetime, policy: ServiceDeskPolicy) -> None:
    """Customers cancel only within the window and while nothing has been picked."""
    if now - order.placed_at > policy.customer_cancel_window:
        minutes = int(policy.customer_cancel_window.total_seconds() // 60)
        raise errors.CancellationWindowClosed(
            f"orders can be cancelled online within {minutes} minutes of ordering; please "
            f"contact customer service", field=["number"])
    busy = [f for f in order.fulfillments
            if f.status not in CUSTOMER_CANCELLABLE and f.status not in lifecycle.INACTIVE]
    if busy:
        raise errors.IllegalTransition(
            f"order {order.number}", current=order.status.value,
            target=OrderStatus.CANCELLED.value, field=["number"],
            allowed=lifecycle.ORDER_TRANSITIONS[order.status],
            why=f"its items are already {busy[0].status.value.lower().replace('_', ' ')}; "
                f"please contact customer service")


def cancel(order: Order, *, skus: list[str] | None, reason: str, actor: str,
           at: datetime) -> Cancellation:
    """Cancel the whole order, or every unshipped unit of some lines."""
    reason = check_reason(reason, field=["reason"])
    lines = _lines(order, skus)
    whole = {ln.id for ln in lines} >= {ln.id for ln in _open_lines(order)}
    if skus is None:  # asked of the order: the order answers
        lifecycle.check_order(order, OrderStatus.CANCELLED)
    for i, line in enumerate(lines):
        if not lifecycle.line_may_be_cancelled(line):
            raise errors.IllegalTransition(
                f"line {line.sku}", current=line.status.value, field=["skus", str(i)],
                target=OrderStatus.CANCELLED.value,
                allowed=lifecycle.LINE_TRANSITIONS[line.status])
    if whole:
        lifecycle.check_order(order, OrderStatus.CANCELLED)
    units = lifecycle.line_units(order)
    ids = {line.id for line in lines}
    moves = _cancel_work(order, ids, reason)
    incoming = [(line.incoming_id, line.backordered) for line in lines
                if line.backordered and line.incoming_id]
    for line in lines:
        line.cancelled += units[line.id].cancellable
        line.backordered = 0
    if whole:
        order.hold_reason = None
    before, after = lifecycle.settle(order)
    what = "Order" if after is OrderStatus.CANCELLED else ", ".join(ln.sku for ln in lines)
    order.record("ORDER_CANCELLED" if after is OrderStatus.CANCELLED else "LINES_CANCELLED",
                 f"{what} cancelled: {reason}", actor=actor, at=at, before=before.value,
                 after=after.value, public=f"{what} cancelled")
    return Cancellation(moves, incoming)


def _open_lines(order: Order) -> list[OrderLine]:
    return [ln for ln in order.lines if ln.status is not LineStatus.CANCELLED]


def _lines(order: Order, skus: list[str] | None) -> list[OrderLine]:
    """The lines named, or all not cancelled yet (an already cancelled order: all of them,
    so the order machine refuses it)."""
    if skus is None:
        return _open_lines(order) or list(order.lines)
    by_sku = {line.sku: line for line in order.lines}
    if not skus or len(set(skus)) != len(skus):
        raise errors.InvalidInput("skus must name each line to cancel once", field=["skus"])
    for i, sku in enumerate(skus):
        if sku not in by_sku:
            raise errors.InvalidInput(f"order {order.number} has no line {sku}",
                                      field=["skus", str(i)])
    return [by_sku[sku] for sku in skus]


def _cancel_work(order: Order, line_ids: set[str], reason: str) -> list[StockMove]:
    """Take the lines out of open fulfillments; one left empty is cancelled whole."""
    moves: list[StockMove] = []
    for f in order.fulfillments:
        mine = [fl for fl in f.lines if fl.order_line_id in line_ids]
        if f.status not in OPEN or not mine:
            continue
        moves += release(f, "CANCELLED", mine)
        if len(mine) == len(f.lines):
            f.status, f.reason = FulfillmentStatus.CANCELLED, reason
        else:
            f.lines = [fl for fl in f.lines if fl.order_line_id not in line_ids]
    return moves


def hold(order: Order, *, reason: str, actor: str, at: datetime) -> None:
    reason = check_reason(reason, field=["reason"])
    lifecycle.check_order(order, OrderStatus.ON_HOLD)
    order.hold_reason = reason
    before, after = lifecycle.settle(order)
    order.record("ORDER_HELD", f"Order held: {reason}", actor=actor, at=at,
                 before=before.value, after=after.value)


def release_hold(order: Order, *, reason: str | None, actor: str, at: datetime) -> None:
    if order.hold_reason is None:
        raise errors.IllegalTransition(f"order {order.number}", current=order.status.value,
                                       allowed=lifecycle.ORDER_TRANSITIONS[order.status],
                                       why="it is not on hold", field=["number"])
    why = check_reason(reason, field=["reason"]) if reason else None
    held_for = order.hold_reason
    order.hold_reason = None
    before, after = lifecycle.settle(order)
    order.record("ORDER_RELEASED", f"Hold released ({held_for})" + (f": {why}" if why else ""),
                 actor=actor, at=at, before=before.value, after=after.value)


def update_shipping_address(order: Order, address: Address, *, actor: str,
                            at: datetime) -> None:
    """Change where a shipment goes, while nothing has shipped; the country stays."""
    old = order.delivery.address
    if order.delivery.method is not DeliveryMethod.SHIP or old is None:
        raise errors.InvalidInput("a pickup order has no shipping address", field=["address"])
    if order.status is OrderStatus.CANCELLED or lifecycle.shipped_anything(order):
        raise errors.IllegalTransition(
            f"order {order.number}", current=order.status.value, field=["number"],
            allowed=lifecycle.ORDER_TRANSITIONS[order.status],
            why="the shipping address cannot change once a parcel has left")
    new = address.validated(field=["address"])
    if new.country != old.country:
        raise errors.InvalidAddress("the destination country cannot change: taxes and totals "
                                    "depend on it", field=["address", "country"])
    order.delivery = dataclasses.replace(order.delivery, address=new)
    order.record("SHIPPING_ADDRESS_UPDATED", "Shipping address changed", actor=actor, at=at,
                 before=_one_line(old), after=_one_line(new),
                 public="Your delivery address was updated")


def _one_line(a: Address) -> str:
    parts = [a.line1, a.line2, f"{a.postal_code} {a.city}", a.region, a.country]
    return ", ".join(p for p in parts if p)


def add_note(order: Order, *, text: str, actor: str, at: datetime) -> None:
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise errors.InvalidInput(f"a note has 1-{MAX_NOTE} characters", field=["text"])
    order.record("NOTE_ADDED", text, actor=actor, at=at)


def retag(order: Order, *, add: frozenset[OrderTag], remove: frozenset[OrderTag], actor: str,
          at: datetime) -> None:
    """Add and remove tags; an order is tagged even once cancelled or delivered."""
    tags = (order.tags | add) - remove
    if tags == order.tags:
        return
    before, order.tags = order.tags, frozenset(tags)
    order.record("TAGS_CHANGED", f"Tags: {_tags(order.tags) or 'none'}", actor=actor, at=at,
                 before=_tags(before), after=_tags(order.tags))


def _tags(tags: frozenset[OrderTag]) -> str:
    return ", ".join(sorted(t.value for t in tags))

