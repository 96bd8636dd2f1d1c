"""Rows to domain objects and back."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
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
from domain.catalog.hours import Day, OpeningHours, Period
from domain.inventory import Incoming
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money
from domain.kernel.tax import TaxClass

CENTS = Decimal(100)


def to_minor(amount: Decimal) -> int:
    return int(amount * CENTS)


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


BASIS_POINT = Decimal("0.0001")


def rate_to_bp(rate: Decimal | None) -> int | None:
    """A VAT rate as a whole number of basis points (0.135 → 1350): exact, and an integer
    column on both engines."""
    if rate is None:
        return None
    bp = rate / BASIS_POINT
    if bp != bp.to_integral_value():
        raise ValueError(f"VAT rate {rate} is finer than a basis point")
    return int(bp)


def rate_from_bp(bp: int | None) -> Decimal | None:
    return None if bp is None else (Decimal(bp) * BASIS_POINT).normalize()


def split(csv: str) -> list[str]:
    return [part for part in csv.split(",") if part]


def channel_from_row(row: Any) -> Channel:
    return Channel(row.code, row.name, tuple(split(row.currencies)),
                   bool(getattr(row, "payment_required", False)),
                   getattr(row, "sender_name", None), getattr(row, "brand_color", None),
                   getattr(row, "locale", None))


def location_values(loc: Location, now: datetime) -> dict[str, Any]:
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
        "active": loc.active, "updated_at": now, "ack_minutes": loc.ack_minutes,
        "opening_hours": hours_to_text(loc.opening_hours),
    }


def hours_to_text(h: OpeningHours | None) -> str | None:
    """Opening hours as compact JSON: {"weekly": [[[opens, closes], ...] × 7], "exceptions":
    [["YYYY-MM-DD", [[opens, closes], ...]], ...]}, minutes after local midnight."""
    if h is None:
        return None
    def day(periods: Day) -> list[list[int]]:
        return [[p.opens, p.closes] for p in periods]
    return json.dumps({"weekly": [day(d) for d in h.weekly],
                       "exceptions": [[when.isoformat(), day(d)] for when, d in h.exceptions]},
                      separators=(",", ":"))


def hours_from_text(text: str | None) -> OpeningHours | None:
    if text is None:
        return None
    data = json.loads(text)
    def day(periods: list[list[int]]) -> Day:
        return tuple(Period(o, c) for o, c in periods)
    w = [day(d) for d in data["weekly"]]
    return OpeningHours(weekly=(w[0], w[1], w[2], w[3], w[4], w[5], w[6]),
                        exceptions=tuple((date.fromisoformat(when), day(d))
                                         for when, d in data["exceptions"]))


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
        active=row.active, ack_minutes=row.ack_minutes,
        opening_hours=hours_from_text(row.opening_hours))


def sku_from_row(row: Any, prices: dict[str, Decimal],
                 components: list[tuple[str, int]]) -> Sku:
    return Sku(sku=row.sku, name=row.name, product_group=row.product_group,
               handling=HandlingClass(row.handling), weight_grams=row.weight_grams,
               prices=prices, backorderable=row.backorderable, preorderable=row.preorderable,
               components=tuple(KitComponent(c, q) for c, q in sorted(components)),
               tax_class=TaxClass(row.tax_class))


def order_values(order: orders.Order) -> dict[str, Any]:
    d = order.delivery
    a = d.address
    return {
        "id": order.id, "number": order.number, "channel": order.channel,
        "customer_email": order.customer.email, "customer_name": order.customer.name,
        "customer_phone": order.customer.phone, "customer_locale": order.customer.locale,
        "currency": order.currency,
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
        "hold_reason": order.hold_reason, "tags": ",".join(sorted(order.tags)),
        "promised_earliest": order.promised_earliest, "promised_latest": order.promised_latest,
    }


def line_values(order_id: str, position: int, ln: orders.OrderLine) -> dict[str, Any]:
    return {"id": ln.id, "order_id": order_id, "position": position, "sku": ln.sku,
            "quantity": ln.quantity, "unit_price_minor": to_minor(ln.unit_price.amount),
            "status": ln.status.value, "backordered": ln.backordered,
            "incoming_id": ln.incoming_id, "cancelled": ln.cancelled, "returned": ln.returned,
            "vat_rate_bp": rate_to_bp(ln.vat_rate)}


def fulfillment_values(order_id: str, f: orders.Fulfillment, now: datetime | None
                       ) -> dict[str, Any]:
    return {"id": f.id, "order_id": order_id, "location": f.location, "status": f.status.value,
            "service_level": f.service_level.value if f.service_level else None,
            "carrier": f.carrier, "tracking_number": f.tracking_number, "reason": f.reason,
            "shipped_at": f.shipped_at, "delivered_at": f.delivered_at,
            "transfer_to": f.transfer_to, "created_at": now, "updated_at": now}


def fulfillment_line_values(fulfillment_id: str, fl: orders.FulfillmentLine) -> dict[str, Any]:
    return {"fulfillment_id": fulfillment_id, "order_line_id": fl.order_line_id, "sku": fl.sku,
            "quantity": fl.quantity, "units": fl.units}


def timeline_values(order_id: str, t: orders.TimelineEntry) -> dict[str, Any]:
    return {"order_id": order_id, "at": t.at, "type": t.type, "message": t.message,
            "actor": t.actor, "before": t.before, "after": t.after, "public_message": t.public}


def tracking_values(fulfillment_id: str, s: orders.TrackingScan) -> dict[str, Any]:
    return {"fulfillment_id": fulfillment_id, "status": s.status.value, "at": s.at,
            "location": s.location, "description": s.description, "recorded_at": s.recorded_at}


def incoming_from_row(r: Any) -> Incoming:
    return Incoming(r.id, r.sku, r.location, r.quantity, r.allocated, r.expected_at,
                    r.received_at, r.received_quantity)


def address_from_row(row: Any) -> Address | None:
    if row.ship_line1 is None:
        return None
    point = (GeoPoint(row.ship_latitude, row.ship_longitude)
             if row.ship_latitude is not None else None)
    return Address(row.ship_line1, row.ship_city, row.ship_postal_code, row.ship_country,
                   row.ship_line2, row.ship_region, point)


def fulfillment_from_rows(f: Any, lines: list[Any], scans: list[Any]) -> orders.Fulfillment:
    return orders.Fulfillment(
        f.id, f.location, orders.FulfillmentStatus(f.status),
        [orders.FulfillmentLine(fl.order_line_id, fl.sku, fl.quantity, fl.units)
         for fl in lines],
        orders.ServiceLevel(f.service_level) if f.service_level else None,
        f.carrier, f.tracking_number, f.reason, f.shipped_at, f.delivered_at,
        [orders.TrackingScan(orders.TrackingStatus(s.status), s.at, s.recorded_at, s.location,
                             s.description) for s in scans], transfer_to=f.transfer_to)


def promise_reference(option_id: str | None) -> str | None:
    """What is kept of a promise option id: the id is the sealed plan (long); the order keeps
    a digest of it, and the plan itself in its sourcing decision."""
    if option_id is None:
        return None
    return "sha256:" + hashlib.sha256(option_id.encode()).hexdigest()[:40]


def order_from_rows(row: Any, lines: list[Any], fulfillments: list[orders.Fulfillment],
                    timeline: list[Any]) -> orders.Order:
    currency = row.currency
    delivery = orders.Delivery(
        orders.DeliveryMethod(row.delivery_method),
        orders.ServiceLevel(row.service_level) if row.service_level else None,
        address_from_row(row), row.pickup_location, row.promise_option_id)
    return orders.Order(
        id=row.id, number=row.number, channel=row.channel,
        customer=orders.Customer(row.customer_email, row.customer_name, row.customer_phone,
                                 row.customer_locale),
        currency=currency, delivery=delivery, status=orders.OrderStatus(row.status),
        lines=[orders.OrderLine(ln.id, ln.sku, ln.quantity,
                                Money(from_minor(ln.unit_price_minor), currency),
                                orders.LineStatus(ln.status), ln.backordered, ln.incoming_id,
                                ln.cancelled, ln.returned, rate_from_bp(ln.vat_rate_bp))
               for ln in lines],
        fulfillments=fulfillments,
        subtotal=Money(from_minor(row.subtotal_minor), currency),
        shipping=Money(from_minor(row.shipping_minor), currency),
        tax=Money(from_minor(row.tax_minor), currency),
        total=Money(from_minor(row.total_minor), currency),
        placed_at=row.placed_at, placed_by=row.placed_by, hold_reason=row.hold_reason,
        tags=frozenset(orders.OrderTag(t) for t in split(row.tags)),
        promised_earliest=row.promised_earliest, promised_latest=row.promised_latest,
        timeline=[orders.TimelineEntry(t.at, t.type, t.message, t.actor, t.before, t.after,
                                       t.public_message) for t in timeline])
