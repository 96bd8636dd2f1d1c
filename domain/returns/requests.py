"""What may come back: per line, how many units, until when, or why not; a request checked
against it; and where the items go back to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.catalog import Location, Sku
from domain.kernel import errors
from domain.kernel.geo import GeoPoint, distance_km
from domain.orders import DeliveryMethod, FulfillmentStatus, Order, OrderLine, lifecycle
from domain.returns import Return
from domain.returns.policy import (
    Resolution,
    ReturnMethod,
    ReturnPolicy,
    window_end,
    zone_of_country,
)

MAX_REASON = 64
MAX_LINES = 100


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


def _customer_point(order: Order, locations: dict[str, Location]) -> GeoPoint | None:
    if order.delivery.address is not None and order.delivery.address.point is not None:
        return order.delivery.address.point
    found = locations.get(order.delivery.pickup_location or "")
    return found.address.point if found else None
