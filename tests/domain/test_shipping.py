"""Promise dates: cut-offs in the location's time zone, processing, weekends, downtime, transit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.catalog import LocationType
from domain.kernel.geo import GeoPoint
from domain.orders import ServiceLevel
from domain.sourcing.shipping import (
    RATES,
    Band,
    Downtime,
    accepted_day,
    add_carrier_days,
    arrival,
    band,
    dispatch_at,
    next_cutoff,
    ready_after_transfer,
    ready_for_pickup,
    same_day_window,
    zone,
)
from tests.domain.builders import location

WAREHOUSE = location("WH-ROMA", cutoff=time(16, 0), processing_hours=0)
NEW_YORK = location("WH-NYC", GeoPoint(40.7, -74.0), cutoff=time(16, 0), processing_hours=0,
                    zone="America/New_York", country="US")


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    """January 2030 in Rome (UTC+1): the 2nd is a Wednesday."""
    return datetime(2030, 1, day, hour, minute, tzinfo=zone("Europe/Rome")).astimezone(UTC)


def test_a_1605_order_misses_a_1600_cut_off_and_leaves_the_next_working_day() -> None:
    before = dispatch_at(WAREHOUSE, rome(2, 15, 55))
    after = dispatch_at(WAREHOUSE, rome(2, 16, 5))

    assert before is not None and after is not None
    assert before.isoformat() == "2030-01-02T16:00:00+01:00"
    assert after.isoformat() == "2030-01-03T16:00:00+01:00"


def test_an_order_exactly_at_the_cut_off_has_missed_it() -> None:
    assert accepted_day(WAREHOUSE, rome(2, 16, 0)).isoformat() == "2030-01-03"


def test_cut_off_is_read_in_the_location_s_time_zone() -> None:
    # 20:30 UTC is 21:30 in Rome but 15:30 in New York
    evening = datetime(2030, 1, 2, 20, 30, tzinfo=UTC)

    assert accepted_day(WAREHOUSE, evening).isoformat() == "2030-01-03"
    assert accepted_day(NEW_YORK, evening).isoformat() == "2030-01-02"
    assert dispatch_at(NEW_YORK, evening).isoformat() == "2030-01-02T16:00:00-05:00"


def test_a_friday_evening_order_leaves_a_warehouse_on_monday_but_a_store_on_saturday() -> None:
    store = location("ST-ROMA", type=LocationType.STORE, cutoff=time(16, 0), processing_hours=0)
    friday_evening = rome(4, 18)

    assert dispatch_at(WAREHOUSE, friday_evening).date().isoformat() == "2030-01-07"
    assert dispatch_at(store, friday_evening).date().isoformat() == "2030-01-05"


@pytest.mark.parametrize(("hours", "day"), [(0, 2), (4, 2), (23, 2), (24, 3), (48, 4),
                                            (72, 7)])
def test_processing_of_a_day_or_more_adds_working_days(hours: int, day: int) -> None:
    supplier = location("SUP", cutoff=time(12, 0), processing_hours=hours)

    assert dispatch_at(supplier, rome(2, 9)).date().day == day


def test_a_day_in_downtime_is_not_a_dispatch_day() -> None:
    thursday_off = Downtime("d", "WH-ROMA", rome(3, 0), rome(4, 0), "inventory count")

    shipped = dispatch_at(WAREHOUSE, rome(2, 17), [thursday_off])

    assert shipped.date().isoformat() == "2030-01-04"


def test_a_location_down_for_months_has_no_dispatch_date() -> None:
    closed = Downtime("d", "WH-ROMA", rome(1, 0), datetime(2030, 6, 1, tzinfo=UTC), "refit")

    assert dispatch_at(WAREHOUSE, rome(2, 9), [closed]) is None


def test_carriers_neither_move_nor_deliver_at_weekends() -> None:
    friday = datetime(2030, 1, 4, 16, tzinfo=UTC)

    earliest, latest = arrival(friday, RATES[ServiceLevel.STANDARD][Band.NATIONAL])

    assert (earliest.date().isoformat(), latest.date().isoformat()) == ("2030-01-08",
                                                                        "2030-01-09")
    assert (earliest.time(), latest.time()) == (time(9), time(18))


@pytest.mark.parametrize(("km", "same_country", "expected"), [
    (0.5, True, Band.LOCAL), (50.0, True, Band.LOCAL), (50.1, True, Band.REGIONAL),
    (250.0, True, Band.REGIONAL), (900.0, True, Band.NATIONAL), (1200.0, True,
                                                                   Band.INTERNATIONAL),
    (30.0, False, Band.INTERNATIONAL), (None, True, Band.NATIONAL)])
def test_distance_bands(km, same_country: bool, expected: Band) -> None:
    assert band(km, same_country=same_country) is expected


def test_express_is_never_slower_than_standard_in_any_band() -> None:
    for bnd in Band:
        assert (RATES[ServiceLevel.EXPRESS][bnd].transit_days
                <= RATES[ServiceLevel.STANDARD][bnd].transit_days)


def test_same_day_needs_the_order_ready_before_today_s_cut_off() -> None:
    store = location("ST-ROMA", type=LocationType.STORE, cutoff=time(18, 0),
                     processing_hours=2)

    morning = same_day_window(store, rome(2, 10, 30))
    too_late = same_day_window(store, rome(2, 16, 30))

    assert morning is not None
    assert [m.isoformat() for m in morning] == ["2030-01-02T13:30:00+01:00",
                                               "2030-01-02T21:00:00+01:00"]
    assert too_late is None


def test_a_pickup_is_ready_processing_hours_after_the_order_or_after_opening() -> None:
    store = location("ST-ROMA", type=LocationType.STORE, cutoff=time(18, 0),
                     processing_hours=2)

    assert ready_for_pickup(store, rome(2, 10, 30)).isoformat() == "2030-01-02T12:30:00+01:00"
    assert ready_for_pickup(store, rome(2, 19)).isoformat() == "2030-01-03T11:00:00+01:00"


def test_a_transfer_is_ready_at_the_pickup_store_after_it_opens_on_arrival_day() -> None:
    store = location("ST-ROMA", type=LocationType.STORE, processing_hours=2)
    window = (datetime(2030, 1, 4, 8, tzinfo=UTC), datetime(2030, 1, 7, 17, tzinfo=UTC))

    ready = ready_after_transfer(store, window)

    assert [r.isoformat() for r in ready] == ["2030-01-04T11:00:00+01:00",
                                             "2030-01-07T11:00:00+01:00"]


def test_the_next_cut_off_is_today_s_until_it_passes() -> None:
    assert next_cutoff(WAREHOUSE, rome(2, 15)).isoformat() == "2030-01-02T16:00:00+01:00"
    assert next_cutoff(WAREHOUSE, rome(2, 16)).isoformat() == "2030-01-03T16:00:00+01:00"


@pytest.mark.parametrize("moment", [
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 12, 0, tzinfo=zone("Pacific/Kiritimati"))])
def test_the_calendar_answers_never_rather_than_overflowing_at_the_ends_of_time(
        moment: datetime) -> None:
    store = location("ST-ROMA", type=LocationType.STORE, cutoff=time(18, 0), processing_hours=2)

    for place in (WAREHOUSE, NEW_YORK, store):
        assert accepted_day(place, moment) is None
        assert dispatch_at(place, moment) is None
        assert same_day_window(place, moment) is None
        assert ready_for_pickup(place, moment) is None


def test_carrier_days_stop_at_the_last_date_instead_of_overflowing() -> None:
    last = date.max - timedelta(days=3)

    assert add_carrier_days(last, 10) == date.max
    window = arrival(datetime(9999, 12, 30, 16, 0, tzinfo=UTC), RATES[ServiceLevel.STANDARD][
        Band.NATIONAL])
    assert window[1].date() == date.max
    assert add_carrier_days(date(2030, 1, 4), 1) == date(2030, 1, 7)  # Friday -> Monday
