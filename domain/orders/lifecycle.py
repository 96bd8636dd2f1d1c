"""Status machines as data (SPEC §2): which status may follow which, and the derived ones.

A fulfillment's status is moved by commands (accept, pick, ship, carrier scans…) along
`FULFILLMENT_TRANSITIONS`, filtered by pure guards. Line and order statuses are never set by
hand: they are derived from where each unit of each line is (`LineUnits`), plus the order's
hold, and every derived change must be an edge of `LINE_TRANSITIONS` / `ORDER_TRANSITIONS` —
a change that is not is refused, so a bug cannot silently walk an order backwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.kernel import errors
from domain.orders import DeliveryMethod, Fulfillment, Order, OrderLine
from domain.orders import FulfillmentStatus as F
from domain.orders import LineStatus as L
from domain.orders import OrderStatus as O

FULFILLMENT_TRANSITIONS: dict[F, tuple[F, ...]] = {
    F.ASSIGNED: (F.ACCEPTED, F.REJECTED, F.CANCELLED),
    F.ACCEPTED: (F.PICKED, F.REJECTED, F.CANCELLED),
    F.PICKED: (F.PACKED, F.CANCELLED),
    F.PACKED: (F.SHIPPED, F.READY_FOR_PICKUP, F.CANCELLED),
    F.SHIPPED: (F.IN_TRANSIT, F.OUT_FOR_DELIVERY, F.DELIVERY_FAILED, F.DELIVERED),
    F.IN_TRANSIT: (F.OUT_FOR_DELIVERY, F.DELIVERY_FAILED, F.DELIVERED),
    F.OUT_FOR_DELIVERY: (F.DELIVERY_FAILED, F.DELIVERED),
    # a failed attempt goes back to the depot or out again
    F.DELIVERY_FAILED: (F.IN_TRANSIT, F.OUT_FOR_DELIVERY, F.DELIVERED),
    F.READY_FOR_PICKUP: (F.DELIVERED, F.CANCELLED),
    F.DELIVERED: (),
    F.REJECTED: (),
    F.CANCELLED: (),
}

LINE_TRANSITIONS: dict[L, tuple[L, ...]] = {
    L.UNALLOCATED: (L.ALLOCATED, L.PARTIALLY_ALLOCATED, L.BACKORDERED, L.CANCELLED),
    # back to BACKORDERED: its location rejected the work and only incoming stock can supply it
    L.ALLOCATED: (L.PARTIALLY_SHIPPED, L.SHIPPED, L.DELIVERED, L.PARTIALLY_ALLOCATED,
                  L.BACKORDERED, L.UNALLOCATED, L.CANCELLED),
    L.PARTIALLY_ALLOCATED: (L.ALLOCATED, L.BACKORDERED, L.UNALLOCATED, L.PARTIALLY_SHIPPED,
                            L.CANCELLED),
    L.BACKORDERED: (L.ALLOCATED, L.PARTIALLY_ALLOCATED, L.CANCELLED),
    L.PARTIALLY_SHIPPED: (L.SHIPPED, L.DELIVERED),
    L.SHIPPED: (L.DELIVERED,),
    L.DELIVERED: (),
    L.CANCELLED: (),
}

_BEFORE_SHIPMENT = (O.PLACED, O.ALLOCATED, O.PARTIALLY_ALLOCATED, O.BACKORDERED,
                    O.IN_FULFILLMENT, O.READY_FOR_PICKUP)
ORDER_TRANSITIONS: dict[O, tuple[O, ...]] = {
    O.PLACED: (O.ALLOCATED, O.PARTIALLY_ALLOCATED, O.BACKORDERED, O.ON_HOLD, O.CANCELLED),
    # a rejected fulfillment re-sourced partly or wholly against incoming stock
    O.ALLOCATED: (O.IN_FULFILLMENT, O.PARTIALLY_ALLOCATED, O.BACKORDERED, O.ON_HOLD,
                  O.CANCELLED),
    # back to PLACED: only units whose location rejected them are left, waiting for a home
    O.PARTIALLY_ALLOCATED: (O.ALLOCATED, O.BACKORDERED, O.PLACED, O.IN_FULFILLMENT, O.ON_HOLD,
                            O.CANCELLED),
    O.BACKORDERED: (O.ALLOCATED, O.PARTIALLY_ALLOCATED, O.ON_HOLD, O.CANCELLED),
    O.IN_FULFILLMENT: (O.PARTIALLY_SHIPPED, O.SHIPPED, O.READY_FOR_PICKUP, O.ALLOCATED,
                       O.PARTIALLY_ALLOCATED, O.BACKORDERED, O.PLACED, O.ON_HOLD, O.CANCELLED),
    O.READY_FOR_PICKUP: (O.DELIVERED, O.PARTIALLY_SHIPPED, O.ON_HOLD, O.CANCELLED),
    # the unshipped rest of a partly shipped order can still be held (a rejected fulfillment)
    O.PARTIALLY_SHIPPED: (O.SHIPPED, O.DELIVERED, O.ON_HOLD),
    O.SHIPPED: (O.DELIVERED,),
    O.DELIVERED: (O.COMPLETED, O.PARTIALLY_RETURNED, O.RETURNED),
    O.COMPLETED: (O.PARTIALLY_RETURNED, O.RETURNED),
    O.PARTIALLY_RETURNED: (O.RETURNED,),
    O.RETURNED: (),
    O.ON_HOLD: (*_BEFORE_SHIPMENT, O.PARTIALLY_SHIPPED, O.SHIPPED, O.DELIVERED, O.CANCELLED),
    O.CANCELLED: (),
}



# Where a fulfillment's units are, by its status.
OPEN = frozenset({F.ASSIGNED, F.ACCEPTED, F.PICKED, F.PACKED, F.READY_FOR_PICKUP})  # reserved
WORKING = frozenset({F.ACCEPTED, F.PICKED, F.PACKED})
WITH_CARRIER = frozenset({F.SHIPPED, F.IN_TRANSIT, F.OUT_FOR_DELIVERY, F.DELIVERY_FAILED})
GONE = WITH_CARRIER | {F.DELIVERED}  # left the building: stock consumed
INACTIVE = frozenset({F.REJECTED, F.CANCELLED})  # their units are counted elsewhere


@dataclass(frozen=True, slots=True)
class WorkContext:
    """What the fulfillment guards look at."""

    method: DeliveryMethod


Guard = Callable[[WorkContext], bool]


def _ships(ctx: WorkContext) -> bool:
    return ctx.method is DeliveryMethod.SHIP


def _picked_up(ctx: WorkContext) -> bool:
    return ctx.method is DeliveryMethod.PICKUP


def _always(ctx: WorkContext) -> bool:
    return True


FULFILLMENT_GUARDS: dict[tuple[F, F], Guard] = {
    (F.PACKED, F.SHIPPED): _ships,
    (F.PACKED, F.READY_FOR_PICKUP): _picked_up,
    (F.READY_FOR_PICKUP, F.DELIVERED): _picked_up,
}


def fulfillment_next(current: F, ctx: WorkContext) -> tuple[F, ...]:
    """The statuses a fulfillment may move to next, guards applied."""
    return tuple(t for t in FULFILLMENT_TRANSITIONS[current]
                 if FULFILLMENT_GUARDS.get((current, t), _always)(ctx))


def check_fulfillment(f: Fulfillment, target: F, ctx: WorkContext) -> None:
    allowed = fulfillment_next(f.status, ctx)
    if target not in allowed:
        raise errors.IllegalTransition(f"fulfillment at {f.location}", current=f.status,
                                       target=target, allowed=allowed,
                                       field=["fulfillmentId"])


def check_order(order: Order, target: O, *, why: str | None = None) -> None:
    allowed = ORDER_TRANSITIONS[order.status]
    if target not in allowed:
        raise errors.IllegalTransition(f"order {order.number}", current=order.status,
                                       target=target, allowed=allowed, why=why,
                                       field=["number"])


@dataclass(frozen=True, slots=True)
class LineUnits:
    """Where the units of one order line are."""

    quantity: int
    cancelled: int = 0
    backordered: int = 0
    assigned: int = 0
    working: int = 0
    ready: int = 0
    with_carrier: int = 0
    delivered: int = 0
    returned: int = 0  # delivered units received back (they stay counted as delivered)

    @property
    def remaining(self) -> int:
        return self.quantity - self.cancelled

    @property
    def gone(self) -> int:
        return self.with_carrier + self.delivered

    @property
    def unallocated(self) -> int:
        """Units no location holds: their fulfillment was rejected and not yet re-sourced."""
        return (self.remaining - self.backordered - self.assigned - self.working - self.ready
                - self.gone)

    @property
    def cancellable(self) -> int:
        return self.remaining - self.gone

    def __add__(self, other: LineUnits) -> LineUnits:
        return LineUnits(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))


def _values(u: LineUnits) -> tuple[int, ...]:
    return (u.quantity, u.cancelled, u.backordered, u.assigned, u.working, u.ready,
            u.with_carrier, u.delivered, u.returned)


_BUCKET = {F.ASSIGNED: "assigned", F.READY_FOR_PICKUP: "ready", F.DELIVERED: "delivered",
           **{s: "working" for s in WORKING}, **{s: "with_carrier" for s in WITH_CARRIER}}


def line_units(order: Order) -> dict[str, LineUnits]:
    """Units of every line, by where they are (a kit's component rows count once)."""
    counts = {ln.id: {"quantity": ln.quantity, "cancelled": ln.cancelled,
                      "backordered": ln.backordered, "returned": ln.returned}
              for ln in order.lines}
    for f in order.fulfillments:
        if f.status in INACTIVE:
            continue
        bucket = _BUCKET[f.status]
        for line_id, units in {fl.order_line_id: fl.units for fl in f.lines}.items():
            counts[line_id][bucket] = counts[line_id].get(bucket, 0) + units
    return {line_id: LineUnits(**c) for line_id, c in counts.items()}


def derive_line_status(u: LineUnits) -> L:
    if u.remaining == 0:
        return L.CANCELLED
    if u.delivered == u.remaining:
        return L.DELIVERED
    if u.gone == u.remaining:
        return L.SHIPPED
    if u.gone:
        return L.PARTIALLY_SHIPPED
    if u.backordered == u.remaining:
        return L.BACKORDERED
    if u.unallocated == u.remaining:
        return L.UNALLOCATED
    if u.backordered or u.unallocated:
        return L.PARTIALLY_ALLOCATED
    return L.ALLOCATED


def derive_order_status(u: LineUnits, *, on_hold: bool) -> O:
    """An order's status from the units of all its lines together, and its hold."""
    if u.remaining == 0:
        return O.CANCELLED
    if on_hold:
        return O.ON_HOLD
    if u.delivered == u.remaining:
        if u.returned:
            return O.RETURNED if u.returned == u.remaining else O.PARTIALLY_RETURNED
        return O.DELIVERED
    if u.gone == u.remaining:
        return O.SHIPPED
    if u.gone:
        return O.PARTIALLY_SHIPPED
    if u.ready == u.remaining:
        return O.READY_FOR_PICKUP
    if u.working or u.ready:
        return O.IN_FULFILLMENT
    if u.assigned == u.remaining:
        return O.ALLOCATED
    if u.backordered == u.remaining:
        return O.BACKORDERED
    if u.assigned or u.backordered:
        return O.PARTIALLY_ALLOCATED
    return O.PLACED


def order_units(order: Order) -> LineUnits:
    return sum(line_units(order).values(), LineUnits(0))


def settle(order: Order) -> tuple[O, O]:
    """Re-derive line and order statuses after a change; refuse an edge not in the tables.

    Returns (before, after) of the order status.
    """
    units = line_units(order)
    for line in order.lines:
        status = derive_line_status(units[line.id])
        if status != line.status:
            check_line(order, line, status)
            line.status = status
    total = sum(units.values(), LineUnits(0))
    before = order.status
    after = derive_order_status(total, on_hold=order.hold_reason is not None)
    if before is O.COMPLETED and after is O.DELIVERED:
        after = before  # completion is a fact of time, not of units: it stays
    if after != before:
        if after in _RETURNED and after not in ORDER_TRANSITIONS[before]:
            # a line may be returned once its own parcel is delivered; when the last parcel
            # arrives after such a return was received, the order passes through DELIVERED
            check_order(order, O.DELIVERED)
            order.status = O.DELIVERED
        check_order(order, after)
        order.status = after
    return before, after


_RETURNED = (O.PARTIALLY_RETURNED, O.RETURNED)


def complete(order: Order, message: str, *, actor: str, at: datetime) -> None:
    """DELIVERED → COMPLETED (nothing more is expected of the order), with ORDER_COMPLETED;
    IllegalTransition from any other status."""
    check_order(order, O.COMPLETED, why="only a delivered order is completed")
    before, order.status = order.status, O.COMPLETED
    order.record("ORDER_COMPLETED", message, actor=actor, at=at, before=before.value,
                 after=order.status.value, public="Your order is complete. Thank you!")


def check_line(order: Order, line: OrderLine, target: L) -> None:
    if target not in LINE_TRANSITIONS[line.status]:
        raise errors.IllegalTransition(f"line {line.sku} of order {order.number}",
                                       current=line.status, target=target,
                                       allowed=LINE_TRANSITIONS[line.status])


def line_may_be_cancelled(line: OrderLine) -> bool:
    return L.CANCELLED in LINE_TRANSITIONS[line.status]


def shipped_anything(order: Order) -> bool:
    return any(f.status in GONE for f in order.fulfillments)
