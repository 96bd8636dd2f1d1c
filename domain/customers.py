"""A customer as the service console sees them: what they bought, what is going wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain import lifecycle
from domain.money import Money
from domain.orders import FulfillmentStatus, Order, OrderStatus


class ProblemKind(StrEnum):
    ON_HOLD = "ON_HOLD"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    UNALLOCATED = "UNALLOCATED"  # a location rejected the work and nobody has it now


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


def problems_of(order: Order) -> list[Problem]:
    """What needs an agent on one order: a hold, a failed delivery, units with no home."""
    found = []
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
    waiting = sum(u.unallocated for u in lifecycle.line_units(order).values())
    if waiting and order.status is not OrderStatus.CANCELLED:
        rejected = [f for f in order.fulfillments if f.status is FulfillmentStatus.REJECTED]
        found.append(Problem(order.number, ProblemKind.UNALLOCATED, order.placed_at,
                             f"{waiting} units without a location"
                             + (f" ({rejected[-1].location}: {rejected[-1].reason})"
                                if rejected else "")))
    return found


def account(email: str, *, name: str | None, orders: int, cancelled: int,
            totals: dict[str, Money], troubled: list[Order]) -> Account:
    problems = sorted((p for o in troubled for p in problems_of(o)), key=lambda p: p.since)
    return Account(email, name, orders, cancelled,
                   tuple(totals[c] for c in sorted(totals)), tuple(problems))
