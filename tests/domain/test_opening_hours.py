"""Opening hours: the schedule, its validation and the time arithmetic over it (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from domain.catalog import LocationType, hours
from domain.catalog.hours import OpeningHours, after_work, cutoff_on, is_open, next_open
from domain.kernel import errors
from domain.sourcing import Reason
from domain.sourcing.shipping import (
    accepted_day,
    closed_throughout,
    dispatch_at,
    next_cutoff,
    ready_after_transfer,
    ready_for_pickup,
    same_day_window,
    zone,
)
from tests.domain.builders import at, decide, location, sku, verdict

ROME = zone("Europe/Rome")
MON_SAT = [(day, "09:30", "19:30") for day in hours.WEEKDAYS[:6]]
MON_FRI = [(day, "08:00", "18:00") for day in hours.WEEKDAYS[:5]]


def week(entries=MON_SAT, exceptions=()) -> OpeningHours:
    return hours.new_opening_hours(weekly=list(entries), exceptions=list(exceptions), at=["h"])


def rome(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in Rome in 2030 (2 January is a Wednesday), as UTC."""
    return datetime(2030, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def local(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(ROME).isoformat()


def store(open_hours: OpeningHours | None = None, *, processing_hours: int = 4,
          cutoff: time = time(18, 0)):
    """ST-ROMA as the demo has it: Mon–Sat 09:30–19:30, 4 h to prepare, cut-off 18:00."""
    return replace(location("ST-ROMA", type=LocationType.STORE, cutoff=cutoff,
                            processing_hours=processing_hours),
                   opening_hours=week() if open_hours is None else open_hours)


# -- the schedule --------------------------------------------------------------------------------

def test_an_exception_replaces_its_date_s_weekly_hours() -> None:
    christmas = date(2030, 12, 25)  # a Wednesday
    h = week(exceptions=[(christmas, []), (date(2030, 12, 24), [("09:30", "13:00")])])

    assert h.on(christmas) == ()
    assert [p.label() for p in h.on(date(2030, 12, 24))] == ["09:30–13:00"]
    assert [p.label() for p in h.on(date(2030, 12, 18))] == ["09:30–19:30"]


def test_a_day_may_have_several_periods_and_one_until_midnight() -> None:
    h = week([("MONDAY", "15:00", "24:00"), ("MONDAY", "09:00", "13:00")])

    assert [p.label() for p in h.on(date(2030, 1, 7))] == ["09:00–13:00", "15:00–24:00"]


@pytest.mark.parametrize(("entries", "field", "words"), [
    ([("MONDAY", "9:30", "19:30")], ["h", "weekly", "0", "opens"], "HH:MM"),
    ([("MONDAY", "09:30", "24:01")], ["h", "weekly", "0", "closes"], "HH:MM"),
    ([("MONDAY", "19:30", "09:30")], ["h", "weekly", "0"], "open before it closes"),
    ([("MONDAY", "09:30", "09:30")], ["h", "weekly", "0"], "open before it closes"),
    ([("TUESDAY", "08:00", "18:00"), ("MONDAY", "09:00", "13:00"),
      ("MONDAY", "12:00", "19:00")], ["h", "weekly", "2"], "overlap"),
    ([("MONTAG", "09:00", "13:00")], ["h", "weekly", "0", "day"], "weekday"),
])
def test_bad_weekly_hours_are_refused_naming_the_entry(entries, field, words) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        week(entries)

    assert refused.value.field == field
    assert words in refused.value.message


def test_a_date_listed_twice_or_out_of_range_is_refused() -> None:
    with pytest.raises(errors.InvalidInput) as twice:
        week(exceptions=[(date(2030, 1, 1), []), (date(2030, 1, 1), [])])
    with pytest.raises(errors.InvalidInput) as far:
        week(exceptions=[(date(9999, 12, 31), [])])

    assert twice.value.field == ["h", "exceptions", "1", "date"]
    assert far.value.field == ["h", "exceptions", "0", "date"]


# -- the arithmetic -------------------------------------------------------------------------------

def test_open_is_half_open_closing_time_is_closed() -> None:
    h = week()

    assert is_open(h, ROME, rome(1, 2, 9, 30))
    assert is_open(h, ROME, rome(1, 2, 19, 29))
    assert not is_open(h, ROME, rome(1, 2, 19, 30))
    assert not is_open(h, ROME, rome(1, 6, 12))  # Sunday


def test_work_before_opening_starts_at_opening() -> None:
    assert local(after_work(week(), ROME, rome(1, 2, 1, 59), 4)) == "2030-01-02T13:30:00+01:00"


def test_work_after_closing_starts_at_the_next_opening() -> None:
    assert local(after_work(week(), ROME, rome(1, 2, 20), 4)) == "2030-01-03T13:30:00+01:00"


def test_work_stops_at_closing_and_goes_on_at_the_next_opening() -> None:
    # 2.5 h on Wednesday evening, 1.5 h on Thursday morning
    assert local(after_work(week(), ROME, rome(1, 2, 17), 4)) == "2030-01-03T11:00:00+01:00"


def test_work_that_ends_at_closing_is_ready_at_the_next_opening() -> None:
    assert local(after_work(week(), ROME, rome(1, 2, 15, 30), 4)) == "2030-01-03T09:30:00+01:00"


def test_a_closed_day_is_skipped() -> None:
    saturday_evening = rome(1, 5, 18)  # 1.5 h Saturday, Sunday closed, 2.5 h Monday

    assert local(after_work(week(), ROME, saturday_evening, 4)) == "2030-01-07T12:00:00+01:00"


def test_a_holiday_is_skipped() -> None:
    h = week(exceptions=[(date(2030, 1, 3), [])])  # Thursday closed

    assert local(after_work(h, ROME, rome(1, 2, 19), 4)) == "2030-01-04T13:00:00+01:00"


def test_whole_days_of_work_are_open_days() -> None:
    # Saturday 11:00 + 24 h: Sunday is closed, so Monday 11:00
    assert local(after_work(week(), ROME, rome(1, 5, 11), 24)) == "2030-01-07T11:00:00+01:00"
    assert local(after_work(week(), ROME, rome(1, 5, 11), 26)) == "2030-01-07T13:00:00+01:00"


def test_work_over_the_spring_forward_night_counts_real_hours() -> None:
    # Sunday 31 March 2030: 02:00 becomes 03:00; 01:00-05:00 is three hours of work
    h = week([("SUNDAY", "01:00", "05:00"), ("MONDAY", "09:00", "18:00")])

    done = after_work(h, ROME, rome(3, 31, 1), 4)

    assert local(done) == "2030-04-01T10:00:00+02:00"
    assert local(after_work(h, ROME, rome(3, 31, 1), 2)) == "2030-03-31T04:00:00+02:00"


def test_work_over_the_fall_back_night_counts_real_hours() -> None:
    # Sunday 27 October 2030: 03:00 becomes 02:00 again; 01:00-05:00 is five hours of work
    h = week([("SUNDAY", "01:00", "05:00")])

    done = after_work(h, ROME, datetime(2030, 10, 27, 1, tzinfo=ROME), 4)

    assert done is not None
    assert done.astimezone(UTC).isoformat() == "2030-10-27T03:00:00+00:00"
    assert local(done) == "2030-10-27T04:00:00+01:00"


def test_the_opening_after_a_dst_change_is_on_the_new_offset() -> None:
    h = week(MON_SAT)

    assert local(next_open(h, ROME, rome(3, 31, 12))) == "2030-04-01T09:30:00+02:00"


def test_a_week_with_every_day_closed_never_opens() -> None:
    never = week([])

    assert never.never_open()
    assert next_open(never, ROME, rome(1, 2, 9)) is None
    assert after_work(never, ROME, rome(1, 2, 9), 0) is None
    assert after_work(never, ROME, rome(1, 2, 9), 48) is None


def test_the_cut_off_moves_inside_the_day_s_hours() -> None:
    h = week([*MON_SAT[:5], ("SATURDAY", "09:30", "13:00")])

    assert cutoff_on(h, date(2030, 1, 2), time(18)) == time(18)
    assert cutoff_on(h, date(2030, 1, 5), time(18)) == time(13)  # Saturday closes at 13:00
    assert cutoff_on(h, date(2030, 1, 2), time(7)) == time(9, 30)
    assert cutoff_on(h, date(2030, 1, 6), time(18)) is None  # Sunday


# -- promise dates with opening hours ---------------------------------------------------------

def test_a_pickup_ordered_at_0159_is_ready_after_the_store_opens_not_at_0559() -> None:
    """Issue 16 item 4: at 01:59 Rome the demo promised a pickup ready at 05:59."""
    night = rome(1, 2, 1, 59)

    assert local(ready_for_pickup(store(), night)) == "2030-01-02T13:30:00+01:00"


def test_same_day_at_0159_leaves_after_opening_not_by_0659() -> None:
    """Issue 16 item 4: the same night, SAME_DAY was promised by 06:59."""
    window = same_day_window(store(), rome(1, 2, 1, 59))

    assert window is not None
    assert [local(m) for m in window] == ["2030-01-02T14:30:00+01:00",
                                          "2030-01-02T21:00:00+01:00"]


def test_same_day_is_refused_when_the_work_cannot_be_done_before_the_cut_off() -> None:
    # 15:00 + 4 h = 19:00, after the 18:00 cut-off
    assert same_day_window(store(), rome(1, 2, 15)) is None
    assert same_day_window(store(), rome(1, 6, 10)) is None  # Sunday: closed


def test_a_pickup_after_the_cut_off_is_prepared_from_the_next_opening() -> None:
    assert local(ready_for_pickup(store(), rome(1, 2, 18, 30))) == "2030-01-03T13:30:00+01:00"


def test_a_pickup_on_a_closed_day_is_ready_on_the_next_open_day() -> None:
    sunday = rome(1, 6, 11)

    assert local(ready_for_pickup(store(), sunday)) == "2030-01-07T13:30:00+01:00"


def test_a_holiday_is_not_a_dispatch_day() -> None:
    warehouse = replace(location("WH-ROMA", cutoff=time(16), processing_hours=0),
                        opening_hours=week(MON_FRI, [(date(2030, 1, 3), [])]))

    assert local(dispatch_at(warehouse, rome(1, 2, 17))) == "2030-01-04T16:00:00+01:00"


def test_a_short_saturday_brings_the_cut_off_forward() -> None:
    short = week([*MON_SAT[:5], ("SATURDAY", "09:30", "13:00")])
    here = store(short)

    assert local(dispatch_at(here, rome(1, 5, 12))) == "2030-01-05T13:00:00+01:00"
    assert accepted_day(here, rome(1, 5, 13, 30)) == date(2030, 1, 7)
    assert local(next_cutoff(here, rome(1, 5, 12))) == "2030-01-05T13:00:00+01:00"
    assert local(next_cutoff(here, rome(1, 5, 14))) == "2030-01-07T18:00:00+01:00"


def test_transferred_stock_is_ready_within_the_pickup_store_s_hours() -> None:
    window = (rome(1, 5, 9), rome(1, 6, 18))  # arrives Saturday to Sunday

    ready = ready_after_transfer(store(), window)

    assert ready is not None
    assert [local(m) for m in ready] == ["2030-01-05T13:30:00+01:00",
                                         "2030-01-07T13:30:00+01:00"]


def test_a_location_closed_every_day_promises_nothing() -> None:
    closed = store(week([]))
    moment = rome(1, 2, 10)

    assert closed_throughout(closed, moment)
    assert accepted_day(closed, moment) is None
    assert dispatch_at(closed, moment) is None
    assert same_day_window(closed, moment) is None
    assert ready_for_pickup(closed, moment) is None
    assert ready_after_transfer(closed, (moment, moment)) is None


def test_sourcing_says_a_location_closed_every_day_is_closed() -> None:
    tee = sku("TEE")
    closed = replace(location("WH-A", processing_hours=0), opening_hours=week([]))
    other = location("WH-B", processing_hours=0)

    decision = decide([(tee, 1)], [at(closed, TEE=5), at(other, TEE=5)],
                      now=rome(1, 2, 10))

    assert [s.location for s in decision.shipments] == ["WH-B"]
    assert verdict(decision, "WH-A").reasons[0] is Reason.CLOSED


def test_a_location_without_hours_keeps_the_old_calendar() -> None:
    always = replace(store(), opening_hours=None)

    assert local(ready_for_pickup(always, rome(1, 2, 1, 59))) == "2030-01-02T05:59:00+01:00"
