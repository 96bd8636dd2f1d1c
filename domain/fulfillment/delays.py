"""A carrier's DELAYED scan moves the order's promised delivery window."""

from __future__ import annotations

from datetime import datetime

from domain.orders import Fulfillment, FulfillmentStatus, Order
from domain.sourcing import shipping


def _plain(at: datetime) -> str:
    return f"{at:%A} {at.day} {at:%B}"


def later_by_one_working_day(at: datetime) -> datetime:
    """The same time of day, one carrier working day later (weekends skipped)."""
    day = shipping.add_carrier_days(at.date(), 1)
    return datetime.combine(day, at.timetz())


def move_promise(order: Order, f: Fulfillment, *, expected: datetime | None, actor: str,
                 at: datetime) -> bool:
    """Move the promised latest date to the carrier's new `expected` one (one working day on
    when the carrier gives none), the earliest with it when it would be later; say so on the
    timeline. False when there is nothing to move (delivered, or no promise and no date)."""
    if f.status is FulfillmentStatus.DELIVERED:
        return False
    before = order.promised_latest
    if expected is not None:
        latest = expected
    elif before is not None:
        latest = later_by_one_working_day(before)
    else:
        return False
    if latest == before:
        return False
    order.promised_latest = latest
    if order.promised_earliest is None or order.promised_earliest > latest:
        order.promised_earliest = latest
    how = "carrier's new date" if expected is not None else "one working day on"
    order.record("PROMISE_MOVED",
                 f"{f.carrier or 'Carrier'} reported a delay: promised latest delivery moved "
                 f"from {before.isoformat() if before else 'none'} to {latest.isoformat()} "
                 f"({how})",
                 actor=actor, at=at, before=before.isoformat() if before else None,
                 after=latest.isoformat(), fulfillment=f,
                 public=f"Your parcel is running late: we now expect it by {_plain(latest)}")
    # the windows before and after, for the customer's "running late" mail
    order.events[-1].payload.update({"before": before.isoformat() if before else None,
                                     "after": latest.isoformat()})
    return True
