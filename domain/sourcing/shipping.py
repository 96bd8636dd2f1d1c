"""Carriers and calendars: distance bands, rates, transit times, cut-offs, working days, downtime.

Every date rule is a pure function of a `now` passed in. Dates are worked out in the location's
own time zone: a 16:05 order in Rome misses a 16:00 Rome cut-off whatever the server's zone.

The model, in the words a retailer uses:
- An order is *accepted* on the first working day of the location (stores Monday–Saturday,
  everyone else Monday–Friday) whose cut-off it beats and on which the location is not down:
  before the cut-off today, or else the next working day.
- It leaves with the carrier at the cut-off of the accepted day; processing longer than a day
  (a drop-ship supplier's 72 h) adds whole working days. Shorter processing fits within the
  day: that is what the location's cut-off is set for.
- Carriers move and deliver Monday–Friday; transit takes the service level's working days for
  the distance band, as a (fastest, slowest) range, delivered between 09:00 and 18:00.
- SAME_DAY needs the location within 50 km of the destination and the order ready (now plus
  processing hours) before today's cut-off; it arrives from an hour after that until 21:00.
- A pickup at the store itself is ready `processing_hours` after the order (after opening, on
  the accepted day). Stock transferred to a pickup store travels as STANDARD and is ready
  `processing_hours` after the store opens on the day it arrives.
- Opening hours (`domain/catalog/hours.py`), when a location has them, replace the fixed
  calendar above: its working days are the dates its hours open (holidays closed by an
  exception), each day's cut-off is moved inside that day's hours (a Saturday closing at 13:00
  has its cut-off at 13:00 at the latest), and processing — for SAME_DAY and pickups — starts
  at opening and runs only while open (each whole 24 h is one open day, the hours left are
  opening hours), so a pickup is ready, and a same-day parcel leaves, within opening hours. A
  location without hours keeps the fixed calendar: working around the clock, opening at 09:00.

The calendar is total: dates from callers are bounded on input (`domain/kernel/dates.py`), but
a moment outside CALENDAR_RANGE (a row stored before the bounds, `9999-12-31…`) makes a rule
answer "never" (None) rather than overflow, and adding carrier days stops at the last date.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from domain.catalog import Location, LocationType, hours
from domain.catalog.hours import OpeningHours
from domain.orders import ServiceLevel

OPENING = time(9, 0)
DELIVERY_FROM = time(9, 0)
DELIVERY_TO = time(18, 0)
SAME_DAY_UNTIL = time(21, 0)
SAME_DAY_RADIUS_KM = 50.0
MAX_LOOKAHEAD_DAYS = 60  # a location down for longer than this is treated as never dispatching
STORE_DAYS = frozenset(range(6))  # Monday..Saturday
WEEK_DAYS = frozenset(range(5))  # Monday..Friday
CARRIER_DAYS = WEEK_DAYS
# Moments the calendar works with: far wider than any bounded input, far enough from the ends
# of `datetime` that a look-ahead, a time zone and a transit time never overflow.
CALENDAR_RANGE = (datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def on_calendar(moment: datetime) -> bool:
    """Can the calendar work from this moment? (Comparing never overflows; converting may.)"""
    return CALENDAR_RANGE[0] <= moment <= CALENDAR_RANGE[1]


class Band(StrEnum):
    LOCAL = "LOCAL"  # up to 50 km
    REGIONAL = "REGIONAL"  # up to 250 km
    NATIONAL = "NATIONAL"  # up to 1000 km, same country
    INTERNATIONAL = "INTERNATIONAL"  # farther, or across a border


BAND_LIMITS_KM = ((Band.LOCAL, 50.0), (Band.REGIONAL, 250.0), (Band.NATIONAL, 1000.0))
# Distance assumed when a location or destination has no coordinates.
NOMINAL_KM = {Band.LOCAL: 25.0, Band.REGIONAL: 150.0, Band.NATIONAL: 600.0,
              Band.INTERNATIONAL: 1500.0}


@dataclass(frozen=True, slots=True)
class Rate:
    """What the carrier adds to the location's own cost, and how long it takes."""

    per_shipment_cents: int
    per_kg_cents: int
    transit_days: tuple[int, int]  # fastest, slowest (carrier working days)


RATES: dict[ServiceLevel, dict[Band, Rate]] = {
    ServiceLevel.STANDARD: {
        Band.LOCAL: Rate(0, 0, (1, 2)), Band.REGIONAL: Rate(100, 10, (1, 2)),
        Band.NATIONAL: Rate(250, 20, (2, 3)), Band.INTERNATIONAL: Rate(900, 60, (3, 6))},
    ServiceLevel.EXPRESS: {
        Band.LOCAL: Rate(400, 10, (1, 1)), Band.REGIONAL: Rate(550, 25, (1, 1)),
        Band.NATIONAL: Rate(800, 45, (1, 2)), Band.INTERNATIONAL: Rate(2200, 120, (2, 3))},
    ServiceLevel.SAME_DAY: {Band.LOCAL: Rate(900, 20, (0, 0))},
}


def band(distance_km: float | None, *, same_country: bool) -> Band:
    """The carrier's distance band; unknown distances count as national (or international)."""
    if not same_country:
        return Band.INTERNATIONAL
    if distance_km is None:
        return Band.NATIONAL
    for name, limit in BAND_LIMITS_KM:
        if distance_km <= limit:
            return name
    return Band.INTERNATIONAL


@dataclass(frozen=True, slots=True)
class Downtime:
    """A scheduled window when a location fulfils nothing (stock take, holiday, outage)."""

    id: str
    location: str
    starts_at: datetime
    ends_at: datetime
    reason: str

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@functools.lru_cache(maxsize=256)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def down_at(windows: tuple[Downtime, ...] | list[Downtime], moment: datetime) -> bool:
    return any(w.covers(moment) for w in windows)


def working_days(location: Location) -> frozenset[int]:
    """Weekdays a location without opening hours works (one with hours works the dates its
    hours open)."""
    return STORE_DAYS if location.type is LocationType.STORE else WEEK_DAYS


def _at(day: date, clock_time: time, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=tz)


def _day_cutoff(days: frozenset[int], open_hours: OpeningHours | None, cutoff: time,
                day: date) -> time | None:
    """The cut-off in force on `day`, or None when the location does not work that day."""
    if open_hours is None:
        return cutoff if day.weekday() in days else None
    return hours.cutoff_on(open_hours, day, cutoff)


def _next_open_day(days: frozenset[int], open_hours: OpeningHours | None, cutoff: time,
                   day: date, windows: tuple[Downtime, ...], tz: zoneinfo.ZoneInfo
                   ) -> date | None:
    """`day` or the first working day after it whose cut-off is not inside a downtime."""
    for _ in range(MAX_LOOKAHEAD_DAYS):
        today = _day_cutoff(days, open_hours, cutoff, day)
        if today is not None and not down_at(windows, _at(day, today, tz)):
            return day
        day += timedelta(days=1)
    return None


def accepted_day(location: Location, now: datetime,
                 windows: Iterable[Downtime] = ()) -> date | None:
    """The working day whose cut-off an order placed at `now` makes (None: never)."""
    if not on_calendar(now):
        return None
    return _accepted(working_days(location), location.opening_hours, location.cutoff_time,
                     location.time_zone, now, tuple(windows))


def dispatch_at(location: Location, now: datetime,
                windows: Iterable[Downtime] = ()) -> datetime | None:
    """When the carrier collects an order placed at `now` (None: not within the look-ahead)."""
    if not on_calendar(now):
        return None
    return _dispatch(working_days(location), location.opening_hours, location.cutoff_time,
                     location.time_zone, location.processing_hours, now, tuple(windows))


# Pure functions of small values, asked for again and again by one delivery promise (every
# option looks at every location): memoised.
@functools.lru_cache(maxsize=4096)
def _accepted(days: frozenset[int], open_hours: OpeningHours | None, cutoff: time,
              zone_name: str, now: datetime, windows: tuple[Downtime, ...]) -> date | None:
    tz = zone(zone_name)
    local = now.astimezone(tz)
    day = local.date()
    today = _day_cutoff(days, open_hours, cutoff, day)
    if today is not None and local.time() >= today:
        day += timedelta(days=1)
    return _next_open_day(days, open_hours, cutoff, day, windows, tz)


@functools.lru_cache(maxsize=4096)
def _dispatch(days: frozenset[int], open_hours: OpeningHours | None, cutoff: time,
              zone_name: str, processing: int, now: datetime,
              windows: tuple[Downtime, ...]) -> datetime | None:
    tz = zone(zone_name)
    day = _accepted(days, open_hours, cutoff, zone_name, now, windows)
    for _ in range(processing // 24):
        if day is None:
            return None
        day = _next_open_day(days, open_hours, cutoff, day + timedelta(days=1), windows, tz)
    if day is None:
        return None
    leaves = _day_cutoff(days, open_hours, cutoff, day)
    assert leaves is not None  # a working day has a cut-off
    return _at(day, leaves, tz)


def closed_throughout(location: Location, now: datetime) -> bool:
    """Do the location's opening hours never open within the look-ahead from `now`?"""
    if location.opening_hours is None or not on_calendar(now):
        return False
    return hours.next_open(location.opening_hours, zone(location.time_zone), now) is None


def add_carrier_days(day: date, count: int) -> date:
    """`count` carrier working days after `day` (itself moved to a working day first); the
    last date there is when that would run off the calendar."""
    while day.weekday() not in CARRIER_DAYS and day < date.max:
        day += timedelta(days=1)
    for _ in range(count):
        if day >= date.max - timedelta(days=7):
            return date.max
        day += timedelta(days=1)
        while day.weekday() not in CARRIER_DAYS:
            day += timedelta(days=1)
    return day


@functools.lru_cache(maxsize=4096)
def arrival(dispatched: datetime, rate: Rate) -> tuple[datetime, datetime]:
    """Delivery window of a parcel the carrier collected at `dispatched` (its time zone)."""
    tz = dispatched.tzinfo
    fastest, slowest = rate.transit_days
    day = dispatched.date()
    return (datetime.combine(add_carrier_days(day, fastest), DELIVERY_FROM, tzinfo=tz),
            datetime.combine(add_carrier_days(day, slowest), DELIVERY_TO, tzinfo=tz))


def same_day_window(location: Location, now: datetime,
                    windows: Iterable[Downtime] = ()) -> tuple[datetime, datetime] | None:
    """The SAME_DAY delivery window from this location, or None when it cannot make it."""
    if not on_calendar(now):
        return None
    tz = zone(location.time_zone)
    local = now.astimezone(tz)
    if accepted_day(location, now, windows) != local.date():
        return None
    open_hours = location.opening_hours
    if open_hours is None:
        cutoff: time | None = location.cutoff_time
        ready: datetime | None = local + timedelta(hours=location.processing_hours)
    else:  # the work starts when the location opens and stops while it is closed
        cutoff = hours.cutoff_on(open_hours, local.date(), location.cutoff_time)
        ready = hours.after_work(open_hours, tz, now, location.processing_hours)
    if cutoff is None or ready is None or ready > _at(local.date(), cutoff, tz):
        return None
    earliest, latest = ready + timedelta(hours=1), _at(local.date(), SAME_DAY_UNTIL, tz)
    return (earliest, latest) if earliest <= latest else None


def ready_for_pickup(location: Location, now: datetime,
                     windows: Iterable[Downtime] = ()) -> datetime | None:
    """When an order placed at `now` from the store's own stock can be collected."""
    if not on_calendar(now):
        return None
    tz = zone(location.time_zone)
    day = accepted_day(location, now, windows)
    if day is None:
        return None
    local = now.astimezone(tz)
    if location.opening_hours is None:
        start = local if day == local.date() else _at(day, OPENING, tz)
        return start + timedelta(hours=location.processing_hours)
    start = local if day == local.date() else _at(day, time(0), tz)
    return hours.after_work(location.opening_hours, tz, start, location.processing_hours)


def ready_after_transfer(store: Location, window: tuple[datetime, datetime],
                         ) -> tuple[datetime, datetime] | None:
    """When stock arriving at a pickup store within `window` is ready to collect (None: the
    store does not open within the look-ahead)."""
    tz = zone(store.time_zone)
    if store.opening_hours is None:
        span = timedelta(hours=store.processing_hours)
        return (_at(window[0].astimezone(tz).date(), OPENING, tz) + span,
                _at(window[1].astimezone(tz).date(), OPENING, tz) + span)
    earliest, latest = (hours.after_work(store.opening_hours, tz,
                                         _at(moment.astimezone(tz).date(), time(0), tz),
                                         store.processing_hours) for moment in window)
    return None if earliest is None or latest is None else (earliest, latest)


def next_cutoff(location: Location, now: datetime) -> datetime:
    """The next moment this location's cut-off passes (after which dates move on)."""
    tz = zone(location.time_zone)
    local = now.astimezone(tz)
    if location.opening_hours is not None:
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            cutoff = hours.cutoff_on(location.opening_hours, day, location.cutoff_time)
            if cutoff is not None and _at(day, cutoff, tz) > local:
                return _at(day, cutoff, tz)
    today = _at(local.date(), location.cutoff_time, tz)
    return today if local < today else _at(local.date() + timedelta(days=1),
                                           location.cutoff_time, tz)
