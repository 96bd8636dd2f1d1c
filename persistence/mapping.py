"""Rows to domain objects and back."""

from __future__ import annotations

import hashlib
from datetime import time
from decimal import Decimal
from typing import Any

from domain import orders
from domain.catalog import (
    Address,
    Capability,
    Channel,
    HandlingClass,
    KitComponent,
    Location,
    LocationType,
    Sku,
)
from domain.geo import GeoPoint
from domain.money import Money

CENTS = Decimal(100)


def to_minor(amount: Decimal) -> int:
    return int(amount * CENTS)


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


def split(csv: str) -> list[str]:
    return [part for part in csv.split(",") if part]


def channel_from_row(row: Any) -> Channel:
    return Channel(row.code, row.name, tuple(split(row.currencies)))


def location_values(loc: Location, now) -> dict[str, Any]:
    a = loc.address
    assert a.point is not None
    return {
        "code": loc.code, "name": loc.name, "type": loc.type.value, "line1": a.line1,
        "line2": a.line2, "city": a.city, "postal_code": a.postal_code, "country": a.country,
        "region": a.region, "latitude": a.point.latitude, "longitude": a.point.longitude,
        "capabilities": ",".join(sorted(c.value for c in loc.capabilities)),
        "handling_classes": ",".join(sorted(h.value for h in loc.handling_classes)),
        "time_zone": loc.time_zone, "cutoff_time": loc.cutoff_time.strftime("%H:%M"),
        "processing_hours": loc.processing_hours, "daily_capacity": loc.daily_capacity,
        "cost_per_shipment_minor": to_minor(loc.cost_per_shipment),
        "cost_per_kg_minor": to_minor(loc.cost_per_kg), "carbon_factor": loc.carbon_factor,
        "active": loc.active, "updated_at": now,
    }


def location_from_row(row: Any, channels: list[str]) -> Location:
    hours, minutes = row.cutoff_time.split(":")
    return Location(
        code=row.code, name=row.name, type=LocationType(row.type),
        address=Address(row.line1, row.city, row.postal_code, row.country, row.line2, row.region,
                        GeoPoint(row.latitude, row.longitude)),
        capabilities=frozenset(Capability(c) for c in split(row.capabilities)),
        channels=tuple(sorted(channels)),
        handling_classes=frozenset(HandlingClass(h) for h in split(row.handling_classes)),
        time_zone=row.time_zone, cutoff_time=time(int(hours), int(minutes)),
        processing_hours=row.processing_hours, daily_capacity=row.daily_capacity,
        cost_per_shipment=from_minor(row.cost_per_shipment_minor),
        cost_per_kg=from_minor(row.cost_per_kg_minor), carbon_factor=row.carbon_factor,
        active=row.active)


def sku_from_row(row: Any, prices: dict[str, Decimal],
                 components: list[tuple[str, int]]) -> Sku:
    return Sku(sku=row.sku, name=row.name, product_group=row.product_group,
               handling=HandlingClass(row.handling), weight_grams=row.weight_grams,
               prices=prices, backorderable=row.backorderable, preorderable=row.preorderable,
               components=tuple(KitComponent(c, q) for c, q in sorted(components)))


def order_values(order: orders.Order) -> dict[str, Any]:
    d = order.delivery
    a = d.address
    return {
        "id": order.id, "number": order.number, "channel": order.channel,
        "customer_email": order.customer.email, "customer_name": order.customer.name,
        "customer_phone": order.customer.phone, "currency": order.currency,
        "delivery_method": d.method.value,
        "service_level": d.service_level.value if d.service_level else None,
        "ship_line1": a.line1 if a else None, "ship_line2": a.line2 if a else None,
        "ship_city": a.city if a else None, "ship_postal_code": a.postal_code if a else None,
        "ship_country": a.country if a else None, "ship_region": a.region if a else None,
        "ship_latitude": a.point.latitude if a and a.point else None,
        "ship_longitude": a.point.longitude if a and a.point else None,
        "pickup_location": d.pickup_location,
        "promise_option_id": promise_reference(d.promise_option_id),
        "status": order.status.value, "subtotal_minor": to_minor(order.subtotal.amount),
        "shipping_minor": to_minor(order.shipping.amount), "tax_minor": to_minor(order.tax.amount),
        "total_minor": to_minor(order.total.amount), "placed_at": order.placed_at,
        "placed_by": order.placed_by, "updated_at": order.placed_at,
        "promised_earliest": order.promised_earliest, "promised_latest": order.promised_latest,
    }


def promise_reference(option_id: str | None) -> str | None:
    """What is kept of a promise option id: the id is the sealed plan (long); the order keeps
    a digest of it, and the plan itself in its sourcing decision."""
    if option_id is None:
        return None
    return "sha256:" + hashlib.sha256(option_id.encode()).hexdigest()[:40]


def order_from_rows(row: Any, lines: list[Any], fulfillments: list[Any],
                    fulfillment_lines: dict[str, list[Any]], timeline: list[Any]) -> orders.Order:
    currency = row.currency
    address = None
    if row.ship_line1 is not None:
        point = (GeoPoint(row.ship_latitude, row.ship_longitude)
                 if row.ship_latitude is not None else None)
        address = Address(row.ship_line1, row.ship_city, row.ship_postal_code, row.ship_country,
                          row.ship_line2, row.ship_region, point)
    delivery = orders.Delivery(
        orders.DeliveryMethod(row.delivery_method),
        orders.ServiceLevel(row.service_level) if row.service_level else None,
        address, row.pickup_location, row.promise_option_id)
    return orders.Order(
        id=row.id, number=row.number, channel=row.channel,
        customer=orders.Customer(row.customer_email, row.customer_name, row.customer_phone),
        currency=currency, delivery=delivery, status=orders.OrderStatus(row.status),
        lines=[orders.OrderLine(ln.id, ln.sku, ln.quantity,
                                Money(from_minor(ln.unit_price_minor), currency),
                                orders.LineStatus(ln.status), ln.backordered, ln.incoming_id)
               for ln in lines],
        fulfillments=[orders.Fulfillment(
            f.id, f.location, orders.FulfillmentStatus(f.status),
            [orders.FulfillmentLine(fl.order_line_id, fl.sku, fl.quantity)
             for fl in fulfillment_lines.get(f.id, [])],
            orders.ServiceLevel(f.service_level) if f.service_level else None,
            f.carrier, f.tracking_number, f.transfer_to) for f in fulfillments],
        subtotal=Money(from_minor(row.subtotal_minor), currency),
        shipping=Money(from_minor(row.shipping_minor), currency),
        tax=Money(from_minor(row.tax_minor), currency),
        total=Money(from_minor(row.total_minor), currency),
        placed_at=row.placed_at, placed_by=row.placed_by,
        promised_earliest=row.promised_earliest, promised_latest=row.promised_latest,
        timeline=[orders.TimelineEntry(t.at, t.type, t.message, t.actor) for t in timeline])
