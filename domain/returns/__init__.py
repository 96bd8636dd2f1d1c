"""Returns (RMAs): the return aggregate and its steps (the machine is in status.py; what
may come back is in requests.py).

A return belongs to a delivered order. Every step is written on the order's timeline and
raises an event on the order's stream, so whoever follows the order sees its returns move.
Units count as returned (order PARTIALLY_RETURNED / RETURNED) once they are received.

The returns & refunds context: the return aggregate and its status machine, return policies,
what may come back, refunds and the payment port, exchanges.

May use: kernel, access, catalog, inventory, orders, sourcing, checkout, fulfillment,
service_desk, payments, documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.fulfillment.fulfilling import StockMove
from domain.kernel import errors
from domain.kernel.money import Money
from domain.orders import FulfillmentStatus, Order, lifecycle
from domain.returns import refunds
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.status import ReturnStatus as S
from domain.returns.status import return_next as next_statuses


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
    """Money given back, as the payment provider confirmed it; pending (no reference) from
    the moment it is claimed until the provider answers."""

    id: str
    amount: Money
    reference: str | None
    provider: str | None
    at: datetime
    actor: str

    @property
    def pending(self) -> bool:
        return self.reference is None


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
        """Given back or being given back: pending refunds count against what was paid."""
        return sum((r.amount.amount for r in self.refunds), Decimal("0.00"))

    @property
    def pending_refund(self) -> Refund | None:
        return next((r for r in self.refunds if r.pending), None)


def check(ret: Return, target: S) -> None:
    allowed = next_statuses(ret.status, ret.resolution)
    if target not in allowed:
        raise errors.IllegalTransition(f"return {ret.number}", current=ret.status.value,
                                       target=target.value, allowed=allowed,
                                       field=["returnNumber"])


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


def _settled(ret: Return) -> S:
    return S.CREDITED if ret.resolution is Resolution.STORE_CREDIT else S.REFUNDED


def claim_refund(ret: Return, order: Order, pending: Refund, *,
                 refunded_before: Decimal) -> None:
    """Set money aside for a refund before the provider is asked: it counts against what the
    order paid from now on, so two refunds racing each other can never both be paid."""
    check(ret, _settled(ret))
    if ret.pending_refund is not None:
        raise errors.Conflict(f"a refund of return {ret.number} is already in progress",
                              field=["returnNumber"])
    refunds.check_cap(order, pending.amount.amount, refunded=refunded_before)
    ret.refunds.append(pending)


def drop_refund(ret: Return, refund_id: str) -> None:
    """The provider declined: the claimed money is free again, nothing else changed."""
    ret.refunds = [r for r in ret.refunds if r.id != refund_id or not r.pending]


def refund(ret: Return, order: Order, paid: Refund, *, refunded_before: Decimal) -> None:
    """Record money given back (completing its claim, if it was claimed); the order's refunds
    never exceed what it paid. `refunded_before` leaves `paid` itself out."""
    target = _settled(ret)
    check(ret, target)
    refunds.check_cap(order, paid.amount.amount, refunded=refunded_before)
    ret.refunds = [r for r in ret.refunds if r.id != paid.id] + [paid]
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
