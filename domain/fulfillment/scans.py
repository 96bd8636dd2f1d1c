"""Carrier scans: what a carrier reports about a parcel once it has left the building.

A scan moves the fulfillment forward when it is news: not a duplicate, not older than the
newest scan on record, and a step the fulfillment machine allows from where it is. Anything
else is kept in the history and reported back as ignored, with the reason — a carrier's
integration is never told "no errors" about a scan that changed nothing without being told
why. A scan dated after the server's clock (beyond a small skew) is refused outright: taken as
the newest, it would have frozen the status against every real scan after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.fulfillment import delays
from domain.kernel import dates, errors
from domain.orders import (
    Fulfillment,
    FulfillmentStatus,
    Order,
    TrackingScan,
    TrackingStatus,
    lifecycle,
)
from domain.orders.lifecycle import GONE, WorkContext

F = FulfillmentStatus
T = TrackingStatus

SCAN_TARGET: dict[T, F | None] = {
    T.LABEL_CREATED: F.SHIPPED, T.PICKED_UP: F.IN_TRANSIT, T.IN_TRANSIT: F.IN_TRANSIT,
    T.OUT_FOR_DELIVERY: F.OUT_FOR_DELIVERY, T.DELAYED: None,
    T.DELIVERY_FAILED: F.DELIVERY_FAILED, T.DELIVERED: F.DELIVERED,
}
SCAN_WORDS = {F.IN_TRANSIT: "On its way", F.OUT_FOR_DELIVERY: "Out for delivery",
              F.DELIVERY_FAILED: "Delivery attempt failed", F.DELIVERED: "Delivered"}
# How far ahead of the server's clock a scan may be dated: carriers' clocks drift and their
# batches arrive late, never early. A scan dated beyond this would become "the newest scan"
# and keep every real one after it from moving the status (SCAN_IN_FUTURE instead).
SCAN_FUTURE_TOLERANCE = timedelta(minutes=15)


class ScanIgnored(StrEnum):
    """Why a scan that was accepted did not take effect."""

    DUPLICATE = "DUPLICATE"  # the same status at the same instant is already on record
    OLDER_THAN_NEWEST = "OLDER_THAN_NEWEST"  # dated before the newest scan on record
    STATUS_NOT_NEXT = "STATUS_NOT_NEXT"  # the status it reports is not a step forward from here


@dataclass(frozen=True, slots=True)
class Scanned:
    """A scan recorded: the order and fulfillment after it, and why it changed nothing, if so."""

    order: Order
    fulfillment: Fulfillment
    ignored: ScanIgnored | None


def scan_time(at: datetime, *, now: datetime) -> datetime:
    """When a scan says it happened, in UTC: refused without a zone or too long ago
    (INVALID_INPUT), or later than now plus the tolerance (SCAN_IN_FUTURE)."""
    if at.tzinfo is not None and at.utcoffset() is not None:
        _not_in_future(at, now)
    return dates.within(at, now=now, field=["at"], ahead=SCAN_FUTURE_TOLERANCE)


def _not_in_future(at: datetime, now: datetime) -> None:
    if at > now + SCAN_FUTURE_TOLERANCE:
        minutes = int(SCAN_FUTURE_TOLERANCE.total_seconds() // 60)
        raise errors.ScanInFuture(
            f"the scan is dated {at.isoformat()}, after the server's clock "
            f"({now.isoformat()}) by more than the {minutes} minutes allowed for clock skew; "
            "nothing was recorded", field=["at"])


def record_scan(order: Order, fulfillment_id: str, scan: TrackingScan, *, actor: str,
                expected: datetime | None = None) -> ScanIgnored | None:
    """Store a carrier scan and follow it when it is news; None when it took effect, else
    why not. A DELAYED scan moves the promised window (to `expected` when the carrier gives
    a date).

    A scan dated after the server's clock (beyond the tolerance) is refused: SCAN_IN_FUTURE.
    A duplicate is not stored again. A scan older than the newest one stored is kept but never
    moves the status back, and neither does a scan the machine does not allow (carrier data
    is noisy; it is not refused): both are kept in the history and reported as ignored. A
    DELAYED scan, late or not, moves the promise; it is ignored only once delivered.
    """
    _not_in_future(scan.at, scan.recorded_at)
    f = order.fulfillment(fulfillment_id)
    if f.status not in GONE:
        target = SCAN_TARGET[scan.status]
        raise errors.IllegalTransition(
            f"fulfillment at {f.location}", current=f.status.value,
            target=target.value if target else None, field=["fulfillmentId"],
            allowed=lifecycle.fulfillment_next(f.status, WorkContext(order.delivery.method)),
            why="carrier events are accepted once it has shipped")
    if any(s.status is scan.status and s.at == scan.at for s in f.tracking):
        return ScanIgnored.DUPLICATE
    newest = max((s.at for s in f.tracking), default=None)
    late = newest is not None and scan.at < newest
    target = SCAN_TARGET[scan.status]
    moves = (not late and target is not None and target is not f.status
             and target in lifecycle.fulfillment_next(f.status,
                                                      WorkContext(order.delivery.method)))
    f.tracking.append(scan)
    before = f.status
    if moves:
        assert target is not None
        f.status = target
        if target is F.DELIVERED:
            f.delivered_at = scan.at
        lifecycle.settle(order)
    order.record(f"TRACKING_{scan.status.value}", _scan_message(f, scan, moved=moves, late=late),
                 actor=actor, at=scan.recorded_at, public=_scan_public(scan, moved=moves),
                 before=before.value if moves else None,
                 after=f.status.value if moves else None, fulfillment=f)
    order.events[-1].payload["moved"] = moves  # news for the customer only when it moved
    if scan.status is T.DELAYED:
        delays.move_promise(order, f, expected=expected, actor=actor, at=scan.recorded_at)
    return _ignored(scan, before, late=late, moved=moves)


def _ignored(scan: TrackingScan, before: F, *, late: bool, moved: bool) -> ScanIgnored | None:
    """Why a stored scan took no effect (None: it did). A DELAYED scan moves the promise, late
    or not, until the parcel is delivered; news on the current status is news."""
    if scan.status is T.DELAYED:
        return ScanIgnored.STATUS_NOT_NEXT if before is F.DELIVERED else None
    if late:
        return ScanIgnored.OLDER_THAN_NEWEST
    if not moved and SCAN_TARGET[scan.status] is not before:
        return ScanIgnored.STATUS_NOT_NEXT
    return None


def _scan_message(f: Fulfillment, scan: TrackingScan, *, moved: bool, late: bool) -> str:
    where = f" at {scan.location}" if scan.location else ""
    said = f": {scan.description}" if scan.description else ""
    head = (f"{f.carrier or 'Carrier'} scan {scan.status.value}{where} "
            f"({scan.at.isoformat()}){said}")
    if moved:
        return f"{head}; fulfillment now {f.status.value}"
    if late:
        return f"{head}; received after a newer scan, fulfillment stays {f.status.value}"
    return f"{head}; fulfillment stays {f.status.value}"


def _scan_public(scan: TrackingScan, *, moved: bool) -> str | None:
    said = f": {scan.description}" if scan.description else ""
    if scan.status is T.DELAYED:
        return f"Your delivery is delayed{said}"
    target = SCAN_TARGET[scan.status]
    if not moved or target is None or target not in SCAN_WORDS:
        return None
    return SCAN_WORDS[target] + (said if target is F.DELIVERY_FAILED else "")
