"""Placing an order: validate, price, source, then reserve conditionally — exactly once."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import access, errors, events, orders
from domain.access import Principal, Role
from domain.catalog import Sku
from domain.geo import GeoPoint, distance_km
from domain.inventory import LedgerEntry
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    LineRequest,
    Order,
    OrderLine,
    PlaceOrder,
    TimelineEntry,
)
from domain.ports import Clock, IdempotencyRecord, Reader, SourcingSnapshot, UnitOfWorkFactory
from domain.sourcing import Candidate, Demand, Plan, Sourcer, eligible

# A failed conditional reservation means another order took the units since our snapshot;
# each retry re-reads and re-plans. Past this many, the caller is told to try again.
MAX_ATTEMPTS = 8
# What customers read on their timeline (migration 0002a gives older entries the same words).
PLACED_WORDS = "We received your order"
ALLOCATED_WORDS = "Your items are reserved for you"
BACKORDERED_WORDS = "Some items are on backorder: we will send them as soon as they arrive"


@dataclass(slots=True)
class Draft:
    """An order priced and planned from a snapshot, before anything is written."""

    order: Order
    demands: list[Demand]
    plan: Plan


def fingerprint(command: PlaceOrder, principal: Principal) -> str:
    """What makes two requests with one idempotency key the same request."""
    body = {"command": dataclasses.asdict(command), "by": [principal.role, principal.subject]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def place_order(reader: Reader, uow: UnitOfWorkFactory, command: PlaceOrder, *,
                      principal: Principal, clock: Clock, sourcer: Sourcer) -> Order:
    """Place an order, or return the one this idempotency key already placed."""
    access.require(principal, "orders.place")
    key = orders.check_idempotency_key(command.idempotency_key)
    email = orders.check_email(command.customer.email, field=["customer", "email"])
    email = access.order_customer_email(principal, email)
    lines = orders.merged_lines(command.lines)
    print_ = fingerprint(command, principal)
    existing = await reader.idempotency(key)
    if existing is not None:
        return await _replay(reader, existing, print_)
    for _ in range(MAX_ATTEMPTS):
        snapshot = await reader.sourcing_snapshot(channel=command.channel,
                                                  skus=[line.sku for line in lines])
        draft = _draft(snapshot, command, lines, email, principal=principal, now=clock.now(),
                       sourcer=sourcer)
        async with uow() as tx:
            taken = await tx.idempotency.claim(IdempotencyRecord(key, print_, draft.order.id))
            if taken is not None:
                break
            wants = sorted((sku, loc, n) for (sku, loc), n in
                           draft.plan.reservations(draft.demands).items())
            levels = await tx.inventory.reserve(wants)
            if levels is None:
                continue
            backordered = [await tx.inventory.allocate_incoming(b.incoming_id, b.units)
                           for b in draft.plan.backorders]
            if not all(backordered):
                continue
            order = draft.order
            order.number = await tx.orders.next_number()
            _record_placement(order, draft, levels_events=[
                events.inventory_changed(sku=lv.sku, location=lv.location, on_hand=lv.on_hand,
                                         reserved=lv.reserved, safety_stock=lv.safety_stock,
                                         reason="ORDER_RESERVED", at=order.placed_at)
                for lv in levels])
            await tx.orders.add(order)
            await tx.inventory.append_ledger(
                [LedgerEntry(sku, loc, 0, n, "ORDER_RESERVED", order.number, principal.actor,
                             order.placed_at) for sku, loc, n in wants])
            tx.emit(*order.events)
            await tx.commit()
            return order
    else:
        raise errors.Conflict("stock kept changing while placing the order; try again")
    return await _replay(reader, taken, print_)


async def _replay(reader: Reader, record: IdempotencyRecord, print_: str) -> Order:
    if record.fingerprint != print_:
        raise errors.IdempotencyKeyMismatch(
            "this idempotencyKey was used for a different request", field=["idempotencyKey"])
    order = await reader.order_by_id(record.order_id)
    if order is None:  # the key is claimed by a transaction that has not committed yet
        raise errors.Conflict("an identical request is still being processed; try again")
    return order


def _draft(snapshot: SourcingSnapshot, command: PlaceOrder, lines: list[LineRequest],
           email: str, *, principal: Principal, now: datetime, sourcer: Sourcer) -> Draft:
    channel = snapshot.channel
    if channel is None:
        raise errors.UnknownChannel(f"unknown channel {command.channel!r}", field=["channel"])
    currency = orders.check_currency(command, channel)
    prices = orders.price_lines(lines, skus=snapshot.skus, currency=currency)
    delivery = orders.check_delivery(command.delivery, channel=channel.code,
                                     locations=snapshot.locations)
    if delivery.method is DeliveryMethod.SHIP:
        assert delivery.address is not None
        country, point = delivery.address.country, delivery.address.point
    else:
        pickup = snapshot.locations[delivery.pickup_location or ""]
        country, point = pickup.address.country, pickup.point
    subtotal, shipping, tax, total = orders.totals(prices, lines, delivery=delivery,
                                                   destination_country=country,
                                                   currency=currency)
    demands = [_demand(i, snapshot.skus[line.sku], line.quantity, snapshot.skus)
               for i, line in enumerate(lines)]
    plan = sourcer.plan(demands, _candidates(snapshot, channel.code, delivery, point),
                        incoming=snapshot.incoming, pickup=delivery.pickup_location)
    order_lines = [OrderLine(str(uuid.uuid4()), line.sku, line.quantity, price,
                             orders.LineStatus.ALLOCATED)
                   for line, price in zip(lines, prices, strict=True)]
    for b in plan.backorders:
        order_lines[b.line].backordered += b.units
        order_lines[b.line].incoming_id = b.incoming_id
    for line in order_lines:
        line.status = orders.line_status(line.quantity, line.backordered)
    order = Order(
        id=str(uuid.uuid4()), number="", channel=channel.code,
        customer=Customer(email, command.customer.name, command.customer.phone),
        currency=currency, delivery=delivery,
        status=orders.status_after_placement(order_lines), lines=order_lines,
        fulfillments=_fulfillments(plan, demands, order_lines, delivery),
        subtotal=subtotal, shipping=shipping, tax=tax, total=total, placed_at=now,
        placed_by=principal.actor)
    return Draft(order, demands, plan)


def _demand(line: int, sku: Sku, units: int, catalog: dict[str, Sku]) -> Demand:
    """A line as sourcing sees it: a kit needs each component and all their handling."""
    if not sku.is_kit:
        return Demand(line, sku, units, ((sku.sku, 1),), frozenset({sku.handling}))
    parts = tuple((c.sku, c.quantity) for c in sku.components)
    handling = {sku.handling} | {catalog[c.sku].handling for c in sku.components
                                 if c.sku in catalog}
    return Demand(line, sku, units, parts, frozenset(handling))


def _candidates(snapshot: SourcingSnapshot, channel: str, delivery: Delivery,
                point: GeoPoint | None) -> list[Candidate]:
    out = []
    for location in snapshot.locations.values():
        if not eligible(location, channel=channel, pickup=delivery.pickup_location):
            continue
        available = {sku: level.available for (sku, loc), level in snapshot.levels.items()
                     if loc == location.code}
        distance = (distance_km(point, location.point)
                    if point is not None and location.point is not None else None)
        out.append(Candidate(location, distance, available))
    return out


def _fulfillments(plan: Plan, demands: list[Demand], lines: list[OrderLine],
                  delivery: Delivery) -> list[Fulfillment]:
    by_location: dict[str, Fulfillment] = {}
    for allocation in plan.allocations:
        fulfillment = by_location.setdefault(allocation.location, Fulfillment(
            str(uuid.uuid4()), allocation.location, FulfillmentStatus.ASSIGNED, [],
            service_level=delivery.service_level))
        line = lines[allocation.line]
        for part, per in demands[allocation.line].parts:
            fulfillment.lines.append(FulfillmentLine(line.id, part, per * allocation.units,
                                                     allocation.units))
    return list(by_location.values())


def _record_placement(order: Order, draft: Draft, *,
                      levels_events: list[events.Event]) -> None:
    at, actor = order.placed_at, order.placed_by
    on_behalf = "" if order.placed_by == "guest" or order.placed_by.startswith(
        Role.CUSTOMER.value) else f" by {actor} on behalf of {order.customer.email}"
    order.timeline.append(TimelineEntry(
        at, "ORDER_PLACED", f"Order {order.number} placed on {order.channel}{on_behalf}: "
        f"{sum(line.quantity for line in order.lines)} items, total {order.total.amount} "
        f"{order.currency}", actor, public=PLACED_WORDS))
    for f in order.fulfillments:
        units = sum(fl.quantity for fl in f.lines)
        order.timeline.append(TimelineEntry(
            at, "ALLOCATED", f"{units} units allocated to {f.location}", "system",
            public=ALLOCATED_WORDS))
    for b in draft.plan.backorders:
        sku = order.lines[b.line].sku
        order.timeline.append(TimelineEntry(
            at, "BACKORDERED", f"{b.units} × {sku} backordered against incoming stock at "
            f"{b.location}", "system", public=BACKORDERED_WORDS))
    order.events.append(events.order_placed(number=order.number, status=order.status, at=at))
    order.events.extend(events.fulfillment_created(number=order.number, fulfillment_id=f.id,
                                                   location=f.location, at=at)
                        for f in order.fulfillments)
    order.events.extend(levels_events)
