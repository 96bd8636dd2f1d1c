"""Domain events: what happened, and which streams subscribers follow it on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ORDERS_STREAM = "orders"
INVENTORY_STREAM = "inventory"
# Every event is also appended to "$all", after its own streams: one log of everything, numbered
# in commit order, that durable consumers read (persistence/consumers.py). No subscription
# follows it.
ALL_STREAM = "$all"


def order_stream(number: str) -> str:
    return f"order:{number}"


def location_stream(code: str) -> str:
    return f"location:{code}"


@dataclass(frozen=True, slots=True)
class Event:
    """One fact, written to the outbox with the change that caused it.

    `streams` lists every stream it is appended to; each stream numbers its events from 1.
    The payload holds references and small facts only (far below NOTIFY's 8 kB).
    """

    type: str
    at: datetime
    streams: tuple[str, ...]
    payload: dict[str, Any] = field(default_factory=dict)


def order_placed(*, number: str, status: str, at: datetime) -> Event:
    return Event("ORDER_PLACED", at, (order_stream(number), ORDERS_STREAM),
                 {"order": number, "status": status})


def fulfillment_created(*, number: str, fulfillment_id: str, location: str,
                        at: datetime) -> Event:
    return Event("FULFILLMENT_CREATED", at, (location_stream(location),),
                 {"order": number, "fulfillment": fulfillment_id, "location": location})


def inventory_changed(*, sku: str, location: str, on_hand: int, reserved: int,
                      safety_stock: int, reason: str, at: datetime) -> Event:
    return Event("INVENTORY_CHANGED", at, (INVENTORY_STREAM,),
                 {"sku": sku, "location": location, "onHand": on_hand, "reserved": reserved,
                  "safetyStock": safety_stock,
                  "available": max(0, on_hand - reserved - safety_stock), "reason": reason})


def order_changed(*, type: str, number: str, status: str, at: datetime,
                  fulfillment: tuple[str, str, str] | None = None) -> Event:
    """Something happened to an order; a change of one of its fulfillments — given as
    (id, location, status) — is also news for that location's work queue."""
    streams: tuple[str, ...] = (order_stream(number), ORDERS_STREAM)
    payload: dict[str, Any] = {"order": number, "status": status}
    if fulfillment is not None:
        fulfillment_id, location, fulfillment_status = fulfillment
        streams += (location_stream(location),)
        payload.update(fulfillment=fulfillment_id, location=location,
                       fulfillmentStatus=fulfillment_status)
    return Event(type, at, streams, payload)
