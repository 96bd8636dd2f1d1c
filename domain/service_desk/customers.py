"""A customer as the service console sees them: what they bought, what is going wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.kernel.money import Money
from domain.orders import FulfillmentStatus, Order, OrderStatus, lifecycle


class ProblemKind(StrEnum):
    ON_HOLD = "ON_HOLD"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    UNALLOCATED = "UNALLOCATED"  # a location rejected the work and nobody has it now
    LATE = "LATE"  # not delivered, and the promised latest date has passed
    PAYMENT_CAPTURE_FAILED = "PAYMENT_CAPTURE_FAILED"  # retried, then parked for an agent
    PAYMENT_VOID_FAILED = "PAYMENT_VOID_FAILED"  # the rest of an authorisation not released
    PAYMENT_AUTHORIZATION_EXPIRED = "PAYMENT_AUTHORIZATION_EXPIRED"  # work left, money lapsed


# Orders in these states cannot be late any more: they arrived, or nothing is coming.
ARRIVED_OR_GONE = frozenset({OrderStatus.DELIVERED, OrderStatus.COMPLETED,
                             OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED,
                             OrderStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Problem:
    order_number: str
    kind: ProblemKind
    since: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class Account:
    """Lifetime figures count orders not cancelled, at the value they were placed for."""

    email: str
    name: str | None
    orders: int
    cancelled: int
    lifetime_value: tuple[Money, ...]
    problems: tuple[Problem, ...]


def is_late(order: Order, now: datetime) -> bool:
    return (order.status not in ARRIVED_OR_GONE and order.promised_latest is not None
            and order.promised_latest < now)


def problems_of(order: Order, *, now: datetime) -> list[Problem]:
    """What needs an agent on one order: a hold, a failed delivery, units with no home, a
    promise broken."""
    found = []
    if is_late(order, now):
        assert order.promised_latest is not None
        found.append(Problem(order.number, ProblemKind.LATE, order.promised_latest,
                             f"promised by {order.promised_latest.isoformat()}, "
                             f"still {order.status.value}"))
    if order.status is OrderStatus.ON_HOLD:
        since = next((t.at for t in reversed(order.timeline)
                      if t.after == OrderStatus.ON_HOLD.value), order.placed_at)
        found.append(Problem(order.number, ProblemKind.ON_HOLD, since,
                             order.hold_reason or "on hold"))
    for f in order.fulfillments:
        if f.status is FulfillmentStatus.DELIVERY_FAILED:
            failed = [s for s in f.tracking if s.status.value == f.status.value]
            found.append(Problem(order.number, ProblemKind.DELIVERY_FAILED,
                                 failed[-1].at if failed else order.placed_at,
                                 f"{f.carrier} {f.tracking_number}: "
                                 f"{failed[-1].description if failed else 'delivery failed'}"))
    found += _payment_problems(order, now=now)
    waiting = sum(u.unallocated for u in lifecycle.line_units(order).values())
    if waiting and order.status is not OrderStatus.CANCELLED:
        rejected = [f for f in order.fulfillments if f.status is FulfillmentStatus.REJECTED]
        found.append(Problem(order.number, ProblemKind.UNALLOCATED, order.placed_at,
                             f"{waiting} units without a location"
                             + (f" ({rejected[-1].location}: {rejected[-1].reason})"
                                if rejected else "")))
    return found


def _payment_problems(order: Order, *, now: datetime) -> list[Problem]:
    p = order.payment
    if p is None:
        return []
    found = []
    failing = p.failing
    if failing is not None:
        capture = failing.kind.value == "CAPTURE"
        found.append(Problem(
            order.number, ProblemKind.PAYMENT_CAPTURE_FAILED if capture
            else ProblemKind.PAYMENT_VOID_FAILED, failing.at,
            f"{'capture' if capture else 'release'} of {failing.amount} {order.currency} "
            f"failed {failing.attempts} times: {failing.error}; retryPaymentCapture once the "
            "provider accepts it"))
    left = any(u.gone < u.remaining for u in lifecycle.line_units(order).values())
    if p.expired(now) and left and order.status is not OrderStatus.CANCELLED:
        assert p.expires_at is not None
        found.append(Problem(order.number, ProblemKind.PAYMENT_AUTHORIZATION_EXPIRED,
                             p.expires_at, f"the payment authorisation expired on "
                             f"{p.expires_at.isoformat()} before everything shipped: ask the "
                             "customer to pay again"))
    return found


def account(email: str, *, name: str | None, orders: int, cancelled: int,
            totals: dict[str, Money], troubled: list[Order], now: datetime) -> Account:
    problems = sorted((p for o in troubled for p in problems_of(o, now=now)),
                      key=lambda p: (p.since, p.order_number))  # rows come unordered
    return Account(email, name, orders, cancelled,
                   tuple(totals[c] for c in sorted(totals)), tuple(problems))
