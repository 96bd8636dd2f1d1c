"""Work on fulfillments: what a location and a carrier do to an order, and the stock it moves.

Each operation checks the fulfillment machine, changes the aggregate, re-derives the line and
order statuses, records the timeline entry and event, and returns the stock moves for the
service to apply with conditional updates. Stock leaves the books when a parcel is handed to
the carrier (`ship`) or to the customer at the counter (`confirm_pickup`): until then the
units stay reserved, also while a pickup parcel waits on the shelf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.fulfillment import pickup
from domain.inventory import check_reason
from domain.kernel import errors, events
from domain.orders import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    Order,
    ServiceLevel,
    lifecycle,
)
from domain.orders.lifecycle import WorkContext

F = FulfillmentStatus
MAX_CARRIER = 64
MAX_TRACKING_NUMBER = 128


@dataclass(frozen=True, slots=True)
class StockMove:
    """A change of one level, written with a conditional update and one ledger row."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    reason: str


@dataclass(frozen=True, slots=True)
class Accept:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str


@dataclass(frozen=True, slots=True)
class Pick:
    pass


@dataclass(frozen=True, slots=True)
class Pack:
    pass


@dataclass(frozen=True, slots=True)
class Ship:
    carrier: str
    tracking_number: str
    service_level: ServiceLevel | None = None


@dataclass(frozen=True, slots=True)
class MarkReadyForPickup:
    location_name: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmPickup:
    """The customer collected it; `code`: the pickup code they said, checked when given
    against the order's under `key` (domain/fulfillment/pickup.py)."""

    code: str | None = None
    key: bytes = field(default=b"", repr=False)


Command = Accept | Reject | Pick | Pack | Ship | MarkReadyForPickup | ConfirmPickup

TARGET: dict[type, F] = {Accept: F.ACCEPTED, Reject: F.REJECTED, Pick: F.PICKED,
                         Pack: F.PACKED, Ship: F.SHIPPED, MarkReadyForPickup: F.READY_FOR_PICKUP,
                         ConfirmPickup: F.DELIVERED}
# Steps forward are held back while the order is on hold; rejecting is not.
PROGRESS = frozenset({F.ACCEPTED, F.PICKED, F.PACKED, F.SHIPPED, F.READY_FOR_PICKUP,
                      F.DELIVERED})
PUBLIC_WORDS = {F.ACCEPTED: "We are preparing your order", F.PACKED: "Your items are packed",
                F.DELIVERED: "Collected at the store: enjoy!"}


def next_steps(order: Order, f: Fulfillment) -> tuple[F, ...]:
    """What may happen to a fulfillment now: its machine, less steps forward while the
    order is on hold."""
    allowed = lifecycle.fulfillment_next(f.status, WorkContext(order.delivery.method))
    if order.hold_reason is None:
        return allowed
    return tuple(s for s in allowed if s not in PROGRESS)


def held(f: Fulfillment, lines: list[FulfillmentLine] | None = None) -> dict[str, int]:
    """Units per SKU a fulfillment (or some of its lines) holds at its location."""
    out: dict[str, int] = {}
    for fl in f.lines if lines is None else lines:
        out[fl.sku] = out.get(fl.sku, 0) + fl.quantity
    return out


def release(f: Fulfillment, reason: str, lines: list[FulfillmentLine] | None = None
            ) -> list[StockMove]:
    return [StockMove(sku, f.location, 0, -n, reason) for sku, n in held(f, lines).items()]


def consume(f: Fulfillment, reason: str) -> list[StockMove]:
    return [StockMove(sku, f.location, -n, -n, reason) for sku, n in held(f).items()]


def work(order: Order, fulfillment_id: str, command: Command, *, actor: str,
         at: datetime) -> list[StockMove]:
    """Move a fulfillment one step (accept … confirm pickup); returns the stock to move."""
    if isinstance(command, Reject):
        # nowhere else to go: the units are released and wait for an agent
        return reroute(order, fulfillment_id, Reroute(), reason=command.reason, actor=actor,
                       at=at)
    f = order.fulfillment(fulfillment_id)
    target = TARGET[type(command)]
    lifecycle.check_fulfillment(f, target, WorkContext(order.delivery.method))
    if target not in next_steps(order, f):
        raise errors.IllegalTransition(
            f"fulfillment at {f.location}", current=f.status.value, target=target.value,
            allowed=next_steps(order, f), field=["fulfillmentId"],
            why=f"order {order.number} is on hold: {order.hold_reason}; an agent must "
                f"release it first")
    before = f.status
    moves = _effects(order, f, command, at=at)
    f.status = target
    lifecycle.settle(order)
    order.record(f"FULFILLMENT_{target.value}", _message(f, command), actor=actor, at=at,
                 public=_public(f, command), before=before.value, after=target.value,
                 fulfillment=f)
    return moves


def _effects(order: Order, f: Fulfillment, command: Command, *, at: datetime
             ) -> list[StockMove]:
    match command:
        case Ship(carrier=carrier, tracking_number=number, service_level=level):
            carrier = _text(carrier, MAX_CARRIER, field=["carrier"])
            number = _text(number, MAX_TRACKING_NUMBER, field=["trackingNumber"])
            f.carrier, f.tracking_number = carrier, number
            f.service_level = level or f.service_level
            f.shipped_at = at
            return consume(f, "SHIPPED")
        case ConfirmPickup(code=code, key=key):
            if code is not None and not pickup.matches(key, order.id, code):
                raise errors.PickupCodeMismatch(
                    f"{code!r} is not the pickup code of order {order.number}",
                    field=["pickupCode"])
            f.shipped_at = f.delivered_at = at
            return consume(f, "PICKED_UP")
    return []


def _text(value: str, limit: int, *, field: list[str]) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or not value.isprintable():
        raise errors.InvalidInput(f"{field[-1]} must be 1-{limit} printable characters",
                                  field=field)
    return value


def _message(f: Fulfillment, command: Command) -> str:
    units = sum(held(f).values())
    match command:
        case Ship():
            return (f"Shipped from {f.location} with {f.carrier}, tracking {f.tracking_number}"
                    f" ({units} units)")
        case ConfirmPickup():
            return f"Collected by the customer at {f.location} ({units} units)"
    verb = TARGET[type(command)].value.lower().replace("_", " ")
    return f"Fulfillment at {f.location} {verb} ({units} units)"


def _public(f: Fulfillment, command: Command) -> str | None:
    match command:
        case Ship():
            return f"Shipped with {f.carrier}, tracking number {f.tracking_number}"
        case MarkReadyForPickup(location_name=name):
            return f"Ready for pickup at {name or f.location}"
    return PUBLIC_WORDS.get(TARGET[type(command)])


# --- rejection and re-sourcing -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Waiting:
    """Units of an order line that will wait for an announced receipt (a backorder)."""

    order_line_id: str
    units: int
    incoming_id: str
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Reroute:
    """Where a rejected fulfillment's units go next, as the sourcing engine decided: new
    ASSIGNED work (reserved at its locations) and backorders against incoming stock. Units in
    neither are left with no location: the order goes ON_HOLD for an agent."""

    fulfillments: tuple[Fulfillment, ...] = ()
    backorders: tuple[Waiting, ...] = ()


def reroute(order: Order, fulfillment_id: str, plan: Reroute, *, reason: str, actor: str,
            at: datetime, moved: bool = False,
            unacknowledged: int | None = None) -> list[StockMove]:
    """A location rejects its fulfillment (ASSIGNED or ACCEPTED, also while the order is on
    hold): it becomes REJECTED with its reason, its reservation is released and its units
    follow `plan`; whatever the plan cannot place holds the order for an agent.

    `moved`: an agent took the work away from the location (`rerouteFulfillment`) rather than
    the location refusing it; `unacknowledged`: the location did not accept the work within
    its window of this many minutes (a timer decided). The outcome is the same, the timeline
    says who decided.

    Returns the stock to move: the release at the rejecting location, then the reservations
    of the new work.
    """
    f = order.fulfillment(fulfillment_id)
    reason = check_reason(reason, field=["reason"])  # validated before any change
    lifecycle.check_fulfillment(f, F.REJECTED, WorkContext(order.delivery.method))
    lines = {ln.id: ln for ln in order.lines}
    for w in plan.backorders:
        if w.order_line_id not in lines or w.units <= 0:
            raise errors.InvalidInput(f"no units of line {w.order_line_id} can wait")
    before = f.status
    units = sum(held(f).values())
    f.reason, f.status = reason, F.REJECTED
    moves = release(f, "REJECTED")
    for w in plan.backorders:
        line = lines[w.order_line_id]
        line.backordered += w.units
        line.incoming_id = w.incoming_id
    order.fulfillments.extend(plan.fulfillments)
    for new in plan.fulfillments:
        moves += [StockMove(sku, new.location, 0, n, "RESOURCED")
                  for sku, n in held(new).items()]
    told = _told(f.location, units, reason, moved=moved, unacknowledged=unacknowledged)
    nowhere = _nowhere(order)
    newly_held = bool(nowhere) and order.hold_reason is None
    if newly_held:
        order.hold_reason = (f"{told.held}; no other location can supply "
                             f"{nowhere}")[:MAX_HOLD_REASON]
    held_before = order.status
    lifecycle.settle(order)
    order.record(told.type, told.message, actor=actor, at=at, before=before.value,
                 after=F.REJECTED.value, fulfillment=f)
    for new in plan.fulfillments:
        order.record("ORDER_RESOURCED", f"{sum(held(new).values())} units re-sourced to "
                     f"{new.location} after {told.why}", actor="system", at=at)
        order.events.append(events.fulfillment_created(
            number=order.number, fulfillment_id=new.id, location=new.location, at=at))
    for w in plan.backorders:
        line = lines[w.order_line_id]
        where = f" at {w.location}" if w.location else ""
        order.record("BACKORDERED", f"{w.units} × {line.sku} wait for incoming stock{where}: "
                     f"no other location can supply them now", actor="system", at=at,
                     public="Some of your items are on backorder")
    if newly_held:
        order.record("ORDER_HELD", f"Order held for an agent: {order.hold_reason}",
                     actor="system", at=at, before=held_before.value, after=order.status.value)
    return moves


MAX_HOLD_REASON = 200


@dataclass(frozen=True, slots=True)
class _Told:
    """How the timeline tells that work left its location."""

    type: str  # of the entry and its event
    message: str
    why: str  # what re-sourced units followed: "ST-ROMA rejected them"
    held: str  # the start of a hold reason


def _told(location: str, units: int, reason: str, *, moved: bool,
          unacknowledged: int | None) -> _Told:
    if unacknowledged is not None:
        late = f"did not accept its fulfillment within {unacknowledged} minutes"
        return _Told("FULFILLMENT_UNACKNOWLEDGED", f"{location} {late} ({units} units)",
                     f"{location} did not accept them within {unacknowledged} minutes",
                     f"{location} {late}")
    if moved:
        return _Told("FULFILLMENT_REROUTED",
                     f"Work moved away from {location} ({units} units): {reason}",
                     f"they were moved away from {location}", f"{location} rejected: {reason}")
    return _Told("FULFILLMENT_REJECTED",
                 f"{location} rejected its fulfillment ({units} units): {reason}",
                 f"{location} rejected them", f"{location} rejected: {reason}")


def _nowhere(order: Order) -> str:
    """The units no location holds and no receipt is awaited for, e.g. `1 × LAMP-ARCO`."""
    units = lifecycle.line_units(order)
    return ", ".join(f"{units[ln.id].unallocated} × {ln.sku}" for ln in order.lines
                     if units[ln.id].unallocated > 0)


# --- backorders -------------------------------------------------------------------------------

def allocate_backorder(order: Order, line_id: str, *, units: int, location: str,
                       fulfillment_id: str, actor: str, at: datetime) -> list[StockMove]:
    """Turn backordered units of a line into new work at the location that received them."""
    line = next(ln for ln in order.lines if ln.id == line_id)
    units = min(units, line.backordered)
    if units <= 0:
        return []
    line.backordered -= units
    f = Fulfillment(fulfillment_id, location, F.ASSIGNED,
                    [FulfillmentLine(line.id, line.sku, units, units)],
                    service_level=order.delivery.service_level)
    order.fulfillments.append(f)
    lifecycle.settle(order)
    order.record("BACKORDER_ALLOCATED", f"{units} × {line.sku} received at {location} and "
                 f"allocated", actor=actor, at=at, after=F.ASSIGNED.value, fulfillment=f,
                 public="Your backordered items have arrived and are being prepared")
    return [StockMove(line.sku, location, 0, units, "BACKORDER_ALLOCATED")]

