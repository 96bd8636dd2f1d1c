"""Returns (RMAs): what may come back, the return aggregate and its status machine.

A return belongs to a delivered order. Every step is written on the order's timeline and
raises an event on the order's stream, so whoever follows the order sees its returns move.
Units count as returned (order PARTIALLY_RETURNED / RETURNED) once they are received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain import errors, lifecycle, refunds
from domain.catalog import Location, Sku
from domain.fulfilling import StockMove
from domain.geo import distance_km
from domain.lifecycle import ReturnStatus as S
from domain.lifecycle import return_next as next_statuses
from domain.money import Money
from domain.orders import DeliveryMethod, FulfillmentStatus, Order, OrderLine
from domain.return_policy import (
    Resolution,
    ReturnMethod,
    ReturnPolicy,
    window_end,
    zone_of_country,
)

MAX_REASON = 64
MAX_LINES = 100


class Condition(StrEnum):
    RESTOCK = "RESTOCK"
    WRITE_OFF = "WRITE_OFF"


@dataclass(slots=True)
class ReturnLine:
    id: str
    order_line_id: str
    sku: str
    quantity: int
    reason: str
    refund: Money  # this line's share of the refund (zero for an exchange)
    exchange_sku: str | None = None
    restocked: int = 0
    written_off: int = 0


@dataclass(frozen=True, slots=True)
class Refund:
    """Money given back, as the payment provider confirmed it."""

    id: str
    amount: Money
    reference: str
    provider: str
    at: datetime
    actor: str


@dataclass(slots=True)
class Return:
    id: str
    number: str
    order_id: str
    order_number: str
    customer_email: str
    status: S
    resolution: Resolution
    method: ReturnMethod
    lines: list[ReturnLine]
    receiving_location: str
    fee: Money  # the return label the customer pays, deducted from the refund
    shipping_refund: Money  # the original delivery charge coming back with this return
    refund_total: Money  # what this return refunds (its quote, capped)
    requested_at: datetime
    requested_by: str
    auto_approved: bool = False
    carrier: str | None = None
    tracking_number: str | None = None
    drop_off_code: str | None = None
    replacement_order_id: str | None = None
    received_at: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status is not S.REJECTED

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount.amount for r in self.refunds), Decimal("0.00"))


def check(ret: Return, target: S) -> None:
    allowed = next_statuses(ret.status, ret.resolution)
    if target not in allowed:
        raise errors.IllegalTransition(f"return {ret.number}", current=ret.status.value,
                                       target=target.value, allowed=allowed,
                                       field=["returnNumber"])


# --- eligibility ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineEligibility:
    """May units of this line come back, how many, until when — and if not, why not (a
    userError code)."""

    line_id: str
    sku: str
    quantity: int
    delivered: int
    in_returns: int
    returnable: int
    until: datetime | None
    reason: str | None
    resolutions: frozenset[Resolution]


def customer_zone(order: Order, locations: dict[str, Location]) -> str:
    """The customer's time zone: where they received the order."""
    if order.delivery.method is DeliveryMethod.PICKUP:
        found = locations.get(order.delivery.pickup_location or "")
        return found.time_zone if found else "UTC"
    address = order.delivery.address
    return zone_of_country(address.country if address else None)


def in_returns(returns: list[Return]) -> dict[str, int]:
    """Units of each order line in a return that was not rejected."""
    taken: dict[str, int] = {}
    for ret in returns:
        if ret.active:
            for ln in ret.lines:
                taken[ln.order_line_id] = taken.get(ln.order_line_id, 0) + ln.quantity
    return taken


def _delivered_at(order: Order) -> dict[str, datetime]:
    """When each line's last delivered units arrived."""
    out: dict[str, datetime] = {}
    for f in order.fulfillments:
        if f.status is FulfillmentStatus.DELIVERED and f.delivered_at is not None:
            for fl in f.lines:
                seen = out.get(fl.order_line_id)
                out[fl.order_line_id] = max(seen, f.delivered_at) if seen else f.delivered_at
    return out


def eligibility(order: Order, *, skus: dict[str, Sku], policy: ReturnPolicy,
                returns: list[Return], now: datetime, time_zone: str) -> list[LineEligibility]:
    units = lifecycle.line_units(order)
    taken = in_returns(returns)
    arrived = _delivered_at(order)
    out = []
    for line in order.lines:
        sku = skus.get(line.sku)
        delivered = units[line.id].delivered
        busy = taken.get(line.id, 0)
        until = None
        reason = None
        if delivered == 0:
            reason = errors.OrderNotDelivered.code
        elif sku is None or not policy.returnable(sku):
            reason = errors.NotReturnable.code
        else:
            # (a delivery recorded without its time counts from the order's placement)
            until = window_end(arrived.get(line.id, order.placed_at), policy.window(sku),
                               time_zone)
            if now >= until:
                reason = errors.ReturnWindowClosed.code
            elif busy >= delivered:
                reason = errors.QuantityExceedsReturnable.code
        out.append(LineEligibility(
            line.id, line.sku, line.quantity - line.cancelled, delivered, busy,
            0 if reason else delivered - busy, until, reason,
            policy.resolutions_for(sku) if sku else frozenset()))
    return out


# --- requesting ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    quantity: int
    reason: str
    line_id: str | None = None
    sku: str | None = None
    exchange_sku: str | None = None


@dataclass(frozen=True, slots=True)
class RequestReturn:
    order_number: str
    lines: tuple[ReturnLineRequest, ...]
    resolution: Resolution
    method: ReturnMethod
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Wanted:
    """One checked line of a request."""

    line: OrderLine
    quantity: int
    reason: str
    exchange_sku: str | None
    before: int  # units of the line already returned or in a return


_REFUSAL = {errors.OrderNotDelivered.code: errors.OrderNotDelivered,
            errors.NotReturnable.code: errors.NotReturnable,
            errors.ReturnWindowClosed.code: errors.ReturnWindowClosed,
            errors.QuantityExceedsReturnable.code: errors.QuantityExceedsReturnable}


def check_request(order: Order, command: RequestReturn, *, lines: list[LineEligibility],
                  policy: ReturnPolicy) -> list[Wanted]:
    """The request's lines against what may come back; the first problem is refused."""
    if command.method not in policy.methods:
        raise errors.ReturnMethodNotAllowed(
            f"{order.channel} returns travel by {', '.join(sorted(policy.methods))}",
            field=["method"])
    if not command.lines or len(command.lines) > MAX_LINES:
        raise errors.InvalidInput(f"a return has 1-{MAX_LINES} lines", field=["lines"])
    by_id = {e.line_id: e for e in lines}
    order_lines = {ln.id: ln for ln in order.lines}
    asked: dict[str, int] = {}
    wanted = []
    for i, req in enumerate(command.lines):
        at = ["lines", str(i)]
        found = _line_of(order, req, at=at)
        e = by_id[found.id]
        reason = (req.reason or "").strip()
        if not reason or len(reason) > MAX_REASON or not reason.isprintable():
            raise errors.InvalidInput(f"reason must be 1-{MAX_REASON} characters",
                                      field=[*at, "reason"])
        if req.quantity < 1:
            raise errors.InvalidQuantity("quantity must be at least 1", field=[*at, "quantity"])
        if e.reason is not None and e.reason != errors.QuantityExceedsReturnable.code:
            raise _REFUSAL[e.reason](_why(e, order), field=at)
        if command.resolution not in e.resolutions:
            raise errors.ResolutionNotAllowed(
                f"{e.sku} may come back for {', '.join(sorted(e.resolutions)) or 'nothing'}",
                field=["resolution"])
        before = asked.get(found.id, 0)
        if before + req.quantity > e.returnable:
            raise errors.QuantityExceedsReturnable(
                f"{e.sku}: {e.returnable} of {e.delivered} delivered units can still come "
                f"back ({e.in_returns} already returned or in a return)",
                field=[*at, "quantity"])
        asked[found.id] = before + req.quantity
        wanted.append(Wanted(order_lines[found.id], req.quantity, reason,
                             req.exchange_sku if command.resolution is Resolution.EXCHANGE
                             else None, e.in_returns + before))
    return wanted


def _line_of(order: Order, req: ReturnLineRequest, *, at: list[str]) -> OrderLine:
    for line in order.lines:
        if (req.line_id is not None and line.id == req.line_id) or (
                req.line_id is None and req.sku is not None and line.sku == req.sku):
            return line
    raise errors.NotFound(f"order {order.number} has no such line",
                          field=[*at, "lineId" if req.line_id is not None else "sku"])


def _why(e: LineEligibility, order: Order) -> str:
    if e.reason == errors.OrderNotDelivered.code:
        return f"{e.sku} of order {order.number} has not been delivered yet"
    if e.reason == errors.NotReturnable.code:
        return f"{e.sku} cannot be returned"
    assert e.until is not None
    return f"the return window for {e.sku} closed at {e.until.isoformat()}"


def receiver(order: Order, *, method: ReturnMethod, policy: ReturnPolicy,
             skus: list[Sku], locations: dict[str, Location]) -> Location:
    """The nearest active location of the channel that takes these items back this way."""
    fits = [loc for loc in locations.values()
            if loc.active and loc.type in policy.receivers(method, skus)
            and order.channel in loc.channels
            and all(s.handling in loc.handling_classes for s in skus)]
    if not fits:
        raise errors.NoReturnLocation(f"no location takes these items back by {method}",
                                      field=["method"])
    origin = _customer_point(order, locations)
    if origin is None:
        return min(fits, key=lambda loc: loc.code)
    return min(fits, key=lambda loc: (distance_km(origin, loc.address.point), loc.code)
               if loc.address.point else (float("inf"), loc.code))


def _customer_point(order: Order, locations: dict[str, Location]):
    if order.delivery.address is not None and order.delivery.address.point is not None:
        return order.delivery.address.point
    found = locations.get(order.delivery.pickup_location or "")
    return found.address.point if found else None


def record(order: Order, ret: Return, type_: str, message: str, *, actor: str, at: datetime,
           public: str | None = None) -> None:
    """A step of a return on its order's timeline, and on the order's stream."""
    order.record(type_, message, actor=actor, at=at, public=public)
    order.events[-1].payload.update({"return": ret.number, "returnStatus": ret.status.value})


# --- the steps after the request -------------------------------------------------------------

def approve(ret: Return, order: Order, *, actor: str, at: datetime) -> None:
    check(ret, S.APPROVED)
    before, ret.status = ret.status, S.APPROVED
    record(order, ret, "RETURN_APPROVED", f"Return {ret.number} approved ({before} → "
           f"APPROVED)", actor=actor, at=at, public=_approved_words(ret))


def _approved_words(ret: Return) -> str:
    if ret.method is ReturnMethod.SHIP_BACK:
        return f"Your return {ret.number} is approved: print the label and send the parcel"
    return f"Your return {ret.number} is approved: bring it to the store with your code"


def reject(ret: Return, order: Order, *, reason: str, actor: str, at: datetime) -> None:
    check(ret, S.REJECTED)
    ret.status = S.REJECTED
    record(order, ret, "RETURN_REJECTED", f"Return {ret.number} rejected: {reason}",
           actor=actor, at=at, public=f"Your return {ret.number} was not accepted")


def in_transit(ret: Return, order: Order, *, actor: str, at: datetime) -> None:
    check(ret, S.IN_TRANSIT)
    ret.status = S.IN_TRANSIT
    record(order, ret, "RETURN_IN_TRANSIT", f"Return {ret.number} is on its way to "
           f"{ret.receiving_location} with {ret.carrier}, tracking {ret.tracking_number}",
           actor=actor, at=at, public=f"Your return {ret.number} is on its way to us")


def receive(ret: Return, order: Order, counts: dict[str, tuple[int, int]], *, actor: str,
            at: datetime) -> list[StockMove]:
    """Record the condition of every unit (return line id → (restock, write off)); restocked
    units go back on hand at the receiving location, written-off ones do not."""
    check(ret, S.RECEIVED)
    for i, ln in enumerate(ret.lines):
        restock, write_off = counts.get(ln.id, (0, 0))
        if restock < 0 or write_off < 0 or restock + write_off != ln.quantity:
            raise errors.InvalidQuantity(
                f"the condition of all {ln.quantity} units of {ln.sku} is needed (restock + "
                f"write off = {ln.quantity})", field=["lines", str(i)])
    if set(counts) - {ln.id for ln in ret.lines}:
        raise errors.NotFound(f"return {ret.number} has no such line", field=["lines"])
    moves = []
    lines = {ln.id: ln for ln in order.lines}
    for ln in ret.lines:
        ln.restocked, ln.written_off = counts[ln.id]
        lines[ln.order_line_id].returned += ln.quantity
        for part, per in components(order, ln.order_line_id, ln.sku).items():
            if ln.restocked:
                moves.append(StockMove(part, ret.receiving_location, per * ln.restocked, 0,
                                       "RETURN_RESTOCK"))
    ret.status, ret.received_at = S.RECEIVED, at
    lifecycle.settle(order)
    kept = sum(ln.restocked for ln in ret.lines)
    gone = sum(ln.written_off for ln in ret.lines)
    record(order, ret, "RETURN_RECEIVED", f"Return {ret.number} received at "
           f"{ret.receiving_location}: {kept} units restocked, {gone} written off",
           actor=actor, at=at, public=f"We received your return {ret.number}")
    return moves


def components(order: Order, line_id: str, sku: str) -> dict[str, int]:
    """Stock units per unit of an order line: a kit comes back as its components."""
    for f in order.fulfillments:
        parts = {fl.sku: fl.quantity // fl.units for fl in f.lines
                 if fl.order_line_id == line_id and fl.units}
        if parts and f.status is FulfillmentStatus.DELIVERED:
            return parts
    return {sku: 1}


def refund(ret: Return, order: Order, paid: Refund, *, refunded_before: Decimal) -> None:
    """Record money given back; the order's refunds never exceed what it paid."""
    target = S.CREDITED if ret.resolution is Resolution.STORE_CREDIT else S.REFUNDED
    check(ret, target)
    refunds.check_cap(order, paid.amount.amount, refunded=refunded_before)
    ret.refunds.append(paid)
    ret.status = target
    what = "Store credit" if target is S.CREDITED else "Refund"
    record(order, ret, f"RETURN_{target.value}", f"{what} of {paid.amount.amount} "
           f"{paid.amount.currency} for return {ret.number} ({paid.provider} {paid.reference})",
           actor=paid.actor, at=paid.at,
           public=f"{what} of {paid.amount.amount} {paid.amount.currency} issued")


def exchanged(ret: Return, order: Order, *, replacement_number: str, actor: str,
              at: datetime) -> None:
    check(ret, S.EXCHANGED)
    ret.status = S.EXCHANGED
    record(order, ret, "RETURN_EXCHANGED", f"Return {ret.number} exchanged: replacement "
           f"order {replacement_number} released to fulfillment", actor=actor, at=at,
           public=f"Your replacement ({replacement_number}) is on its way")


def close(ret: Return, order: Order, *, actor: str, at: datetime) -> None:
    """Nothing more will happen to a settled return."""
    check(ret, S.CLOSED)
    before, ret.status = ret.status, S.CLOSED
    record(order, ret, "RETURN_CLOSED", f"Return {ret.number} closed ({before} → CLOSED)",
           actor=actor, at=at)
