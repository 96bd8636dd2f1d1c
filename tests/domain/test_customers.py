from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.orders import OrderStatus
from domain.service_desk import customers
from tests.domain.order_builders import order as an_order

PROMISED = datetime(2030, 1, 4, 17, 0, tzinfo=UTC)


def test_an_order_is_late_only_after_its_promised_latest_and_until_it_arrives():
    order = replace(an_order(lines={"SKU-1": 1}, fulfillments=[("WH-MIL", {"SKU-1": 1})]),
                    promised_latest=PROMISED)

    assert not customers.is_late(order, PROMISED)
    assert customers.is_late(order, PROMISED + timedelta(seconds=1))
    for status in customers.ARRIVED_OR_GONE:
        assert not customers.is_late(replace(order, status=status), PROMISED + timedelta(days=9))
    assert not customers.is_late(replace(order, promised_latest=None), PROMISED)
    assert customers.is_late(replace(order, status=OrderStatus.ON_HOLD),
                             PROMISED + timedelta(days=1))
