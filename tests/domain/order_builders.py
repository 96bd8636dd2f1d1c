"""Order aggregates for pure tests, built without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.catalog import Address
from domain.kernel.money import Money
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    ServiceLevel,
)

AT = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
ROME = Address("Via Nazionale 10", "Roma", "00184", "IT")
EUR = Money(Decimal("1.00"), "EUR")


def delivery(method: DeliveryMethod = DeliveryMethod.SHIP) -> Delivery:
    if method is DeliveryMethod.SHIP:
        return Delivery(method, ServiceLevel.STANDARD, ROME)
    return Delivery(method, None, None, "ST-ROMA")


def order(*, lines: dict[str, int], fulfillments: list[tuple[str, dict[str, int]]],
          backordered: dict[str, int] | None = None,
          method: DeliveryMethod = DeliveryMethod.SHIP,
          status: OrderStatus = OrderStatus.ALLOCATED) -> Order:
    """An order as placed: `lines` sku → quantity; each fulfillment (location, sku → units)."""
    backordered = backordered or {}
    order_lines = [OrderLine(f"line-{sku}", sku, qty, EUR, LineStatus.ALLOCATED,
                             backordered.get(sku, 0), "incoming-1" if sku in backordered
                             else None) for sku, qty in lines.items()]
    for line in order_lines:
        if line.backordered:
            line.status = (LineStatus.BACKORDERED if line.backordered == line.quantity
                           else LineStatus.PARTIALLY_ALLOCATED)
    work = [Fulfillment(f"f-{i}", location, FulfillmentStatus.ASSIGNED,
                        [FulfillmentLine(f"line-{sku}", sku, n, n) for sku, n in units.items()],
                        service_level=ServiceLevel.STANDARD)
            for i, (location, units) in enumerate(fulfillments)]
    return Order(id="order-1", number="PR-000001", channel="web",
                 customer=Customer("ada@example.com", "Ada"), currency="EUR",
                 delivery=delivery(method), status=status, lines=order_lines,
                 fulfillments=work, subtotal=EUR, shipping=EUR, tax=EUR, total=EUR,
                 placed_at=AT, placed_by="guest")


def later(minutes: int) -> datetime:
    return AT + timedelta(minutes=minutes)
