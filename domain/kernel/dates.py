"""Bounds on the dates callers send: every date that feeds the shipping calendar (an expected
receipt, a downtime window, a carrier scan or its new delivery date) must lie within a sane
range around now, or it is refused with INVALID_INPUT naming its field. A date the calendar
would have to carry past what `datetime` holds (year 9999 in a zone east of UTC) cannot get in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.kernel import errors

# About two years: far enough for any purchase order, supplier ASN or planned closure.
MAX_AHEAD = timedelta(days=731)
# About a year: late data (a backfilled scan, a window that began a while ago) but not history.
MAX_BEHIND = timedelta(days=366)


def within(moment: datetime, *, now: datetime, field: list[str],
           ahead: timedelta = MAX_AHEAD, behind: timedelta = MAX_BEHIND) -> datetime:
    """`moment` in UTC; InvalidInput on `field` when it has no zone or lies outside
    [now - behind, now + ahead]. Comparing aware datetimes never overflows, converting does:
    the bounds are checked first."""
    name = field[-1]
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise errors.InvalidInput(f"{name} needs a time zone", field=field)
    if moment > now + ahead:
        raise errors.InvalidInput(
            f"{name} {moment.isoformat()} is too far ahead: at most {_span(ahead)} after now "
            f"({now.isoformat()})", field=field)
    if moment < now - behind:
        raise errors.InvalidInput(
            f"{name} {moment.isoformat()} is too far back: at most {_span(behind)} before now "
            f"({now.isoformat()})", field=field)
    return moment.astimezone(UTC)


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes"
