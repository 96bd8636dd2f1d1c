"""Opening hours: when a location works — a weekly schedule and per-date exceptions (holidays,
late openings), read on the location's own wall clock — and the time arithmetic over them.

Shaped like Google Business Profile's regular and special hours (what Shopify and Fluent
Commerce locations carry too): each weekday has zero or more periods ("09:30"–"13:00",
"15:00"–"19:30"); a date listed as an exception has its own periods instead, none meaning
closed. A location with no opening hours at all (`Location.opening_hours is None`) is open
around the clock, as every location was before hours existed.

Periods are half open, [opens, closes): a location closing at 19:30 is closed at 19:30. All
elapsed-time arithmetic is done in UTC, so a period across a DST change is as long as it
really is (01:00–05:00 on the spring-forward night in Rome is three hours of work).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.kernel import errors

MINUTES_PER_DAY = 24 * 60
MAX_PERIODS_PER_DAY = 6
MAX_EXCEPTIONS = 400  # a year and some of holidays and special days
# Exception dates callers may set: far from the ends of `date` (the calendar adds days to them).
EXCEPTION_YEARS = (2000, 2999)
# How far the arithmetic looks for an open moment before answering "never" (None); matches the
# shipping calendar's look-ahead (a location down longer than that never dispatches).
LOOKAHEAD_DAYS = 60
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """Open from `opens` to `closes`, minutes after local midnight (`closes` 1440: midnight)."""

    opens: int
    closes: int

    def label(self) -> str:
        return f"{_hhmm(self.opens)}–{_hhmm(self.closes)}"


Day = tuple[Period, ...]  # a day's periods, sorted; empty: closed


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A weekly schedule (Monday first) and dated exceptions (sorted by date)."""

    weekly: tuple[Day, Day, Day, Day, Day, Day, Day]
    exceptions: tuple[tuple[date, Day], ...] = ()

    def on(self, day: date) -> Day:
        """The periods of one local date: its exception if it has one, else its weekday's."""
        for when, periods in self.exceptions:
            if when == day:
                return periods
        return self.weekly[day.weekday()]

    def open_on(self, day: date) -> bool:
        return bool(self.on(day))

    def never_open(self) -> bool:
        """Closed every day of the week, and no exception opens a date."""
        return not any(self.weekly) and not any(periods for _, periods in self.exceptions)


def hours_of_time(value: str, *, field: list[str]) -> int:
    """'HH:MM' (or '24:00') as minutes after midnight; InvalidInput on `field` otherwise."""
    if not _HHMM.fullmatch(value or ""):
        raise errors.InvalidInput(f"{value!r} must be HH:MM, 00:00-24:00", field=field)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def new_day(periods: list[tuple[str, str]], *, field: list[str]) -> Day:
    """Validate one day's periods ('HH:MM', 'HH:MM'): each opens before it closes, none
    overlap; returned sorted."""
    if len(periods) > MAX_PERIODS_PER_DAY:
        raise errors.InvalidInput(f"at most {MAX_PERIODS_PER_DAY} periods a day", field=field)
    parsed = []
    for i, (opens, closes) in enumerate(periods):
        o = hours_of_time(opens, field=[*field, str(i), "opens"])
        c = hours_of_time(closes, field=[*field, str(i), "closes"])
        if o == MINUTES_PER_DAY or c <= o:
            raise errors.InvalidInput(
                f"a period must open before it closes ({opens}–{closes}); one that runs past "
                "midnight is two periods, one on each day", field=[*field, str(i)])
        parsed.append((Period(o, c), i))
    parsed.sort()
    for (before, _), (after, i) in zip(parsed, parsed[1:], strict=False):
        if after.opens < before.closes:
            raise errors.InvalidInput(f"periods {before.label()} and {after.label()} overlap",
                                      field=[*field, str(i)])
    return tuple(p for p, _ in parsed)


def new_opening_hours(*, weekly: list[tuple[str, str, str]],
                      exceptions: list[tuple[date, list[tuple[str, str]]]],
                      at: list[str]) -> OpeningHours:
    """Validate opening hours: `weekly` as (weekday name, opens, closes), `exceptions` as
    (date, periods — none: closed all day); `at` is their path in the input."""
    days: list[list[tuple[str, str]]] = [[] for _ in WEEKDAYS]
    where: list[list[int]] = [[] for _ in WEEKDAYS]
    for i, (weekday, opens, closes) in enumerate(weekly):
        if weekday not in WEEKDAYS:
            raise errors.InvalidInput(f"unknown weekday {weekday!r}",
                                      field=[*at, "weekly", str(i), "day"])
        days[WEEKDAYS.index(weekday)].append((opens, closes))
        where[WEEKDAYS.index(weekday)].append(i)
    week = []
    for index, periods in enumerate(days):
        try:
            week.append(new_day(periods, field=[*at, "weekly"]))
        except errors.InvalidInput as bad:  # name the input entry, not the day's position
            raise errors.InvalidInput(bad.message, field=_weekly_field(bad.field, at, where[
                index])) from None
    if len(exceptions) > MAX_EXCEPTIONS:
        raise errors.InvalidInput(f"at most {MAX_EXCEPTIONS} exceptions",
                                  field=[*at, "exceptions"])
    dated: dict[date, Day] = {}
    for i, (when, periods) in enumerate(exceptions):
        if not EXCEPTION_YEARS[0] <= when.year <= EXCEPTION_YEARS[1]:
            raise errors.InvalidInput(
                f"date must be in the years {EXCEPTION_YEARS[0]}-{EXCEPTION_YEARS[1]}",
                field=[*at, "exceptions", str(i), "date"])
        if when in dated:
            raise errors.InvalidInput(f"{when.isoformat()} is listed twice",
                                      field=[*at, "exceptions", str(i), "date"])
        dated[when] = new_day(periods, field=[*at, "exceptions", str(i), "periods"])
    return OpeningHours(weekly=(week[0], week[1], week[2], week[3], week[4], week[5], week[6]),
                        exceptions=tuple(sorted(dated.items())))


def _weekly_field(field: list[str] | None, at: list[str], entries: list[int]) -> list[str]:
    """A day's error path ([..., "weekly", k, part]) as the path of that day's k-th entry."""
    if not field or len(field) < len(at) + 2:
        return [*at, "weekly"]
    k = int(field[len(at) + 1])
    return [*at, "weekly", str(entries[k]), *field[len(at) + 2:]]


def days_from(hours: OpeningHours, start: date, count: int
              ) -> list[tuple[date, Day, bool]]:
    """`count` local dates from `start`: each with its periods and whether an exception set
    them (what a storefront shows as "this week's hours")."""
    dated = dict(hours.exceptions)
    out = []
    for ahead in range(count):
        day = start + timedelta(days=ahead)
        out.append((day, hours.on(day), day in dated))
    return out


# -- arithmetic --------------------------------------------------------------------------------

def _moment(day: date, minutes: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """The UTC moment of `minutes` after local midnight of `day` (1440: the next midnight).
    A wall time that does not exist (the hour skipped in spring) counts as its later side."""
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC)


def intervals(hours: OpeningHours, tz: zoneinfo.ZoneInfo, start: date,
              days: int = LOOKAHEAD_DAYS) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals (UTC, half open) of `days` local dates from `start`, in order."""
    day = start
    for _ in range(days):
        for period in hours.on(day):
            opens, closes = _moment(day, period.opens, tz), _moment(day, period.closes, tz)
            if opens < closes:  # an hour skipped by DST can swallow a whole period
                yield opens, closes
        if day >= date.max - timedelta(days=2):
            return
        day += timedelta(days=1)


def _from(hours: OpeningHours, tz: zoneinfo.ZoneInfo, moment: datetime
          ) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals that end after `moment`, the one holding it clipped to start there."""
    utc = moment.astimezone(UTC)
    start = utc.astimezone(tz).date() - timedelta(days=1)  # a period may end past midnight
    for opens, closes in intervals(hours, tz, start, LOOKAHEAD_DAYS + 1):
        if closes > utc:
            yield max(opens, utc), closes


def is_open(hours: OpeningHours, tz: zoneinfo.ZoneInfo, moment: datetime) -> bool:
    first = next(_from(hours, tz, moment), None)
    return first is not None and first[0] == moment.astimezone(UTC)


def next_open(hours: OpeningHours, tz: zoneinfo.ZoneInfo, moment: datetime) -> datetime | None:
    """`moment` if open then, else the next opening (local time); None: not within the
    look-ahead."""
    first = next(_from(hours, tz, moment), None)
    return None if first is None else first[0].astimezone(tz)


def after_work(hours: OpeningHours, tz: zoneinfo.ZoneInfo, start: datetime,
               work_hours: int) -> datetime | None:
    """When `work_hours` of processing begun at `start` are done, in local time, working only
    while open: each whole 24 h is one open day (the same clock time on the next date that
    opens), the hours left are counted in opening hours. Work that ends as a period closes is
    done at the next opening (no one collects at closing time). None: never, within the
    look-ahead."""
    at = next_open(hours, tz, start)
    days, rest = divmod(work_hours, 24)
    for _ in range(days):
        if at is None:
            return None
        day = at.date() + timedelta(days=1)
        while not hours.open_on(day):
            if day - at.date() > timedelta(days=LOOKAHEAD_DAYS):
                return None
            day += timedelta(days=1)
        at = next_open(hours, tz, datetime.combine(day, at.time().replace(fold=0), tzinfo=tz))
    if at is None:
        return None
    left = timedelta(hours=rest)
    for opens, closes in _from(hours, tz, at):
        if opens + left < closes:
            return (opens + left).astimezone(tz)
        left -= closes - opens
    return None


def cutoff_on(hours: OpeningHours, day: date, cutoff: time) -> time | None:
    """The cut-off in force on `day`: the location's, moved inside that day's opening hours
    (not after its last closing, not before its first opening); None when closed all day."""
    periods = hours.on(day)
    if not periods:
        return None
    wanted = cutoff.hour * 60 + cutoff.minute
    minutes = max(periods[0].opens, min(wanted, periods[-1].closes))
    if minutes >= MINUTES_PER_DAY:
        return time(23, 59)
    return time(minutes // 60, minutes % 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hhmm(minutes: int) -> str:
    """Minutes after midnight as 'HH:MM' ('24:00' for the end of the day)."""
    return _hhmm(minutes)
