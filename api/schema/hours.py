"""A location's opening hours: the weekly schedule, dated exceptions, and the days ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

import strawberry

from api.context import Context
from domain.catalog import Location as DomainLocation
from domain.catalog import hours
from domain.kernel.errors import InvalidInput
from domain.sourcing.shipping import zone

MAX_UPCOMING_DAYS = 31


@strawberry.enum(description="A day of the week.")
class Weekday(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


@strawberry.type(description="Open from `opens` to `closes` (HH:MM, the location's local time; "
                             "`closes` 24:00 is midnight at the end of the day).")
class TimePeriod:
    opens: str
    closes: str

    @classmethod
    def of(cls, day: hours.Day) -> list[TimePeriod]:
        return [cls(opens=hours.hhmm(p.opens), closes=hours.hhmm(p.closes)) for p in day]


@strawberry.type(description="One period of the weekly schedule.")
class OpeningPeriod:
    day: Weekday
    opens: str = strawberry.field(description="HH:MM, local time.")
    closes: str = strawberry.field(description="HH:MM, local time; 24:00 is midnight.")


@strawberry.type(description="A date whose hours differ from the week's (a holiday, a late "
                             "opening): its periods replace that weekday's; none means closed.")
class OpeningException:
    date: date
    closed: bool
    periods: list[TimePeriod]


@strawberry.type(description="One local date and its hours, exceptions applied.")
class OpeningDay:
    date: date
    weekday: Weekday
    closed: bool
    periods: list[TimePeriod]
    exception: bool = strawberry.field(description="Set by an exception, not the weekly "
                                                   "schedule.")


@strawberry.type(description="When a location works, in its own time zone (`Location.timeZone`). "
                             "Pickups are ready, same-day parcels leave and processing runs only "
                             "within these hours.")
class OpeningHours:
    weekly: list[OpeningPeriod] = strawberry.field(
        description="Periods per weekday, Monday first; a weekday without any is closed.")
    exceptions: list[OpeningException] = strawberry.field(
        description="Dated exceptions, in date order.")
    source: strawberry.Private[hours.OpeningHours]
    time_zone: strawberry.Private[str]

    @strawberry.field(description="The next `days` local dates from today (1-31, default 7), "
                                  "exceptions applied: what to show as this week's hours.")
    def upcoming(self, info: strawberry.Info[Context, None], days: int = 7) -> list[OpeningDay]:
        if not 1 <= days <= MAX_UPCOMING_DAYS:
            raise InvalidInput(f"days must be between 1 and {MAX_UPCOMING_DAYS}",
                               field=["days"])
        today = info.context.deps.clock.now().astimezone(zone(self.time_zone)).date()
        return [OpeningDay(date=day, weekday=Weekday(hours.WEEKDAYS[day.weekday()]),
                           closed=not periods, periods=TimePeriod.of(periods),
                           exception=exception)
                for day, periods, exception in hours.days_from(self.source, today, days)]

    @strawberry.field(description="Whether the location is open at this moment.")
    def open_now(self, info: strawberry.Info[Context, None]) -> bool:
        return hours.is_open(self.source, zone(self.time_zone), info.context.deps.clock.now())

    @strawberry.field(description="Now if open, else when it next opens; null when it does not "
                                  "open within 60 days.")
    def next_opening(self, info: strawberry.Info[Context, None]) -> datetime | None:
        found = hours.next_open(self.source, zone(self.time_zone),
                                info.context.deps.clock.now())
        return None if found is None else found.astimezone(UTC)

    @classmethod
    def of(cls, loc: DomainLocation) -> OpeningHours | None:
        h = loc.opening_hours
        if h is None:
            return None
        return cls(
            weekly=[OpeningPeriod(day=Weekday(hours.WEEKDAYS[i]), opens=p.opens, closes=p.closes)
                    for i, day in enumerate(h.weekly) for p in TimePeriod.of(day)],
            exceptions=[OpeningException(date=when, closed=not day, periods=TimePeriod.of(day))
                        for when, day in h.exceptions],
            source=h, time_zone=loc.time_zone)


@strawberry.input(description="One period of a weekday: HH:MM local time, `closes` after "
                              "`opens` (24:00 for midnight). A day open past midnight is two "
                              "periods, one on each day.")
class OpeningPeriodInput:
    day: Weekday
    opens: str
    closes: str


@strawberry.input(description="Open from `opens` to `closes`, HH:MM local time.")
class TimePeriodInput:
    opens: str
    closes: str


@strawberry.input(description="A date with its own hours; no periods: closed all day (a "
                              "holiday).")
class OpeningExceptionInput:
    date: date
    periods: list[TimePeriodInput] = strawberry.field(default_factory=list)


@strawberry.input(description="When the location works. Every period not listed is closed: an "
                              "empty week with no exceptions never opens (the location then "
                              "promises nothing, explained as CLOSED).")
class OpeningHoursInput:
    weekly: list[OpeningPeriodInput]
    exceptions: list[OpeningExceptionInput] = strawberry.field(
        default_factory=list, description="Holidays and special days (at most 400).")

    def to_domain(self, *, at: list[str]) -> hours.OpeningHours:
        return hours.new_opening_hours(
            weekly=[(p.day.value, p.opens, p.closes) for p in self.weekly],
            exceptions=[(x.date, [(p.opens, p.closes) for p in x.periods])
                        for x in self.exceptions], at=at)
