from datetime import UTC, datetime

from domain import delays


def test_one_working_day_after_a_friday_is_the_monday_at_the_same_time():
    friday = datetime(2030, 1, 4, 18, 0, tzinfo=UTC)

    assert delays.later_by_one_working_day(friday) == datetime(2030, 1, 7, 18, 0, tzinfo=UTC)


def test_one_working_day_after_a_tuesday_is_the_wednesday():
    tuesday = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)

    assert delays.later_by_one_working_day(tuesday) == datetime(2030, 1, 9, 9, 0, tzinfo=UTC)
