from dataclasses import replace
from datetime import UTC, datetime

from domain.fulfillment import delays
from domain.orders import FulfillmentStatus
from tests.domain.order_builders import order


def test_one_working_day_after_a_friday_is_the_monday_at_the_same_time():
    friday = datetime(2030, 1, 4, 18, 0, tzinfo=UTC)

    assert delays.later_by_one_working_day(friday) == datetime(2030, 1, 7, 18, 0, tzinfo=UTC)


def test_one_working_day_after_a_tuesday_is_the_wednesday():
    tuesday = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)

    assert delays.later_by_one_working_day(tuesday) == datetime(2030, 1, 9, 9, 0, tzinfo=UTC)


def test_one_working_day_after_the_last_date_there_is_stays_on_it():
    last = datetime(9999, 12, 31, 17, 0, tzinfo=UTC)

    assert delays.later_by_one_working_day(last) == last


def _shipped(**changes):
    o = replace(order(lines={"SKU-1": 1}, fulfillments=[("WH-MIL", {"SKU-1": 1})]), **changes)
    o.fulfillments[0].status = FulfillmentStatus.SHIPPED
    return o, o.fulfillments[0]


AT = datetime(2030, 1, 3, 8, 0, tzinfo=UTC)
LATEST = datetime(2030, 1, 4, 17, 0, tzinfo=UTC)


def test_a_delivered_parcel_keeps_its_promise():
    o, f = _shipped(promised_latest=LATEST)
    f.status = FulfillmentStatus.DELIVERED

    assert not delays.move_promise(o, f, expected=None, actor="integration:brt", at=AT)
    assert (o.promised_latest, o.timeline) == (LATEST, [])


def test_without_a_promise_only_the_carriers_date_makes_one():
    o, f = _shipped()

    assert not delays.move_promise(o, f, expected=None, actor="integration:brt", at=AT)
    assert delays.move_promise(o, f, expected=LATEST, actor="integration:brt", at=AT)
    assert (o.promised_earliest, o.promised_latest) == (LATEST, LATEST)
    assert [(t.type, t.before, t.after) for t in o.timeline] == [
        ("PROMISE_MOVED", None, LATEST.isoformat())]
