"""Placing an order: validate, price, source, then reserve conditionally — exactly once."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from domain import access, orders, payments
from domain.access import Principal, Role
from domain.catalog import Location
from domain.checkout import promise
from domain.checkout.ports import Reader, UnitOfWork, UnitOfWorkFactory
from domain.inventory import LedgerEntry
from domain.kernel import errors, events
from domain.kernel.ports import Clock, IdempotencyRecord
from domain.kernel.tax import rate_for as tax_rate
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
from domain.payments.ports import Providers
from domain.payments.services import check_at_checkout
from domain.sourcing import Decision, Demand, Plan, Sourcer, reservation
from domain.sourcing.ports import SourcingSnapshot
from domain.sourcing.services import demands_for, request_for

# A guard that refuses (another order took the units since our snapshot) makes the attempt
# Stale: the one retry layer runs the use case again on fresh reads, then gives up with this.
STALE = "stock kept changing while placing the order; try again"
# What customers read on their timeline (migration 0002a gives older entries the same words).
PLACED_WORDS = "We received your order"
ALLOCATED_WORDS = "Your items are reserved for you"
BACKORDERED_WORDS = "Some items are on backorder: we will send them as soon as they arrive"


@dataclass(slots=True)
class Draft:
    """An order priced and planned from a snapshot, before anything is written."""

    order: Order
    demands: list[Demand]
    decision: Decision

    @property
    def plan(self) -> Plan:
        return self.decision.plan


def fingerprint(command: PlaceOrder, principal: Principal) -> str:
    """What makes two requests with one idempotency key the same request."""
    body = {"command": dataclasses.asdict(command), "by": [principal.role, principal.subject]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def place_order(reader: Reader, uow: UnitOfWorkFactory, command: PlaceOrder, *,
                      principal: Principal, clock: Clock, sourcer: Sourcer,
                      promise_key: bytes, providers: Providers | None = None,
                      seen_locations: Callable[[dict[str, Location]], None] | None = None
                      ) -> Order:
    """Place an order, or return the one this idempotency key already placed.

    `seen_locations` is told the locations each snapshot read (the API keeps them for the
    response instead of reading them again).

    With `delivery.promiseOptionId` the order is sourced with exactly the promised plan and
    gets the promised window, or is refused (PROMISE_EXPIRED, PROMISE_NO_LONGER_AVAILABLE…).
    """
    access.require(principal, "orders.place")
    key = orders.check_idempotency_key(command.idempotency_key)
    email = orders.check_email(command.customer.email, field=["customer", "email"])
    email = access.order_customer_email(principal, email)
    lines = orders.merged_lines(command.lines)
    print_ = fingerprint(command, principal)
    now = clock.now()
    # the snapshot's read also looks the key up (one transaction); a key taken since is found
    # by the claim below
    snapshot = await reader.sourcing_snapshot(
        channel=command.channel, skus=[line.sku for line in lines], now=now,
        idempotency_key=key)
    if snapshot.idempotency is not None:
        return await _replay(reader, snapshot.idempotency, print_)
    if seen_locations is not None:
        seen_locations(snapshot.locations)
    with _paths_as_sent(command.lines):
        draft = _draft(snapshot, command, lines, email, principal=principal, now=now,
                       sourcer=sourcer, promise_key=promise_key)
    if command.payment is not None:
        if providers is None:
            raise errors.InvalidInput("this server takes no payments", field=["payment"])
        held = await check_at_checkout(providers, draft.order, command.payment)
        payments.authorize(draft.order, payments.check_request(command.payment), held.amount,
                           expires_at=held.expires_at, at=now, partial=held.partial)
    elif snapshot.channel is not None and snapshot.channel.payment_required:
        raise errors.PaymentRequired(f"channel {snapshot.channel.code} takes orders only with "
                                     "a payment", field=["payment"])
    async with uow() as tx:
        taken = await tx.idempotency.claim(IdempotencyRecord(key, print_, draft.order.id))
        if taken is None:
            order = await _write(tx, draft, snapshot, now, actor=principal.actor)
            await tx.commit()
            return order
    return await _replay(reader, taken, print_)


@contextmanager
def _paths_as_sent(sent: tuple[LineRequest, ...]) -> Iterator[None]:
    """A refusal of a merged line (["lines", "1", "sku"] counts merged lines) names that SKU's
    first line as the caller sent it: its userErrors.field must point inside the input."""
    first: dict[str, int] = {}
    for i, line in enumerate(sent):
        first.setdefault(line.sku, i)
    as_sent = list(first.values())  # merged line k is sent line as_sent[k] (orders.merged_lines)
    try:
        yield
    except errors.DomainError as refused:
        path = refused.field
        if path and len(path) > 1 and path[0] == "lines" and path[1].isdigit() \
                and int(path[1]) < len(as_sent):
            refused.field = ["lines", str(as_sent[int(path[1])]), *path[2:]]
        raise


async def _write(tx: UnitOfWork, draft: Draft, snapshot: SourcingSnapshot, now: datetime, *,
                 actor: str) -> Order:
    """Hold the plan (or `Stale`), number the order and record it with its ledger rows,
    decision and events; the caller commits."""
    wants, levels = await reservation.hold(tx, draft.plan, draft.demands, snapshot, now,
                                           stale=STALE)
    order = draft.order
    order.number = await tx.orders.next_number()
    _record_placement(order, draft, levels_events=[
        events.inventory_changed(sku=lv.sku, location=lv.location, on_hand=lv.on_hand,
                                 reserved=lv.reserved, safety_stock=lv.safety_stock,
                                 reason="ORDER_RESERVED", at=now)
        for lv in levels])
    orders.offer(order, order.fulfillments, locations=snapshot.locations, at=now)
    await tx.orders.add(order)
    await tx.inventory.append_ledger(
        [LedgerEntry(sku, loc, 0, n, "ORDER_RESERVED", order.number, actor, now)
         for sku, loc, n in wants])
    await tx.sourcing.save_decision(order_id=order.id, kind="PLACEMENT",
                                    decision=draft.decision)
    tx.emit(*order.events)
    return order


async def _replay(reader: Reader, record: IdempotencyRecord, print_: str) -> Order:
    if record.fingerprint != print_:
        raise errors.IdempotencyKeyMismatch(
            "this idempotencyKey was used for a different request", field=["idempotencyKey"])
    order = await reader.order_by_id(record.order_id)
    if order is None:  # the key is claimed by a transaction that has not committed yet
        raise errors.Conflict("an identical request is still being processed; try again")
    return order


def _draft(snapshot: SourcingSnapshot, command: PlaceOrder, lines: list[LineRequest],
           email: str, *, principal: Principal, now: datetime, sourcer: Sourcer,
           promise_key: bytes) -> Draft:
    channel = snapshot.channel
    if channel is None:
        raise errors.UnknownChannel(f"unknown channel {command.channel!r}", field=["channel"])
    currency = orders.check_currency(command, channel)
    prices = orders.price_lines(lines, skus=snapshot.skus, currency=currency)
    delivery = orders.check_delivery(_promised_level(command.delivery, promise_key),
                                     channel=channel.code, locations=snapshot.locations)
    if delivery.method is DeliveryMethod.SHIP:
        assert delivery.address is not None
        country = delivery.address.country
    else:
        country = snapshot.locations[delivery.pickup_location or ""].address.country
    # each line's VAT rate is fixed now: its SKU's class in the destination country
    rates = [tax_rate(country, snapshot.skus[line.sku].tax_class) for line in lines]
    subtotal, shipping, tax, total = orders.totals(prices, lines, delivery=delivery,
                                                   destination_country=country,
                                                   currency=currency, rates=rates)
    demands = demands_for(snapshot, lines)
    decision, window = _source(snapshot, demands, lines, delivery, now=now, sourcer=sourcer,
                               promise_key=promise_key)
    order_lines = [OrderLine(str(uuid.uuid4()), line.sku, line.quantity, price,
                             orders.LineStatus.ALLOCATED, vat_rate=rate)
                   for line, price, rate in zip(lines, prices, rates, strict=True)]
    for b in decision.plan.backorders:
        order_lines[b.line].backordered += b.units
        order_lines[b.line].incoming_id = b.incoming_id
    for line in order_lines:
        line.status = orders.line_status(line.quantity, line.backordered)
    order = Order(
        id=str(uuid.uuid4()), number="", channel=channel.code,
        customer=Customer(email, command.customer.name, command.customer.phone,
                          orders.check_locale(command.customer.locale,
                                              field=["customer", "locale"])),
        currency=currency, delivery=delivery,
        status=orders.status_after_placement(order_lines), lines=order_lines,
        fulfillments=fulfillments_for(decision.plan, demands, order_lines, delivery),
        subtotal=subtotal, shipping=shipping, tax=tax, total=total, placed_at=now,
        placed_by=principal.actor, promised_earliest=window[0] if window else None,
        promised_latest=window[1] if window else None)
    return Draft(order, demands, decision)


def _promised_level(delivery: Delivery, promise_key: bytes) -> Delivery:
    """A promised shipment need not repeat its service level: the option knows it."""
    if (delivery.promise_option_id is None or delivery.method is not DeliveryMethod.SHIP
            or delivery.service_level is not None):
        return delivery
    level = promise.service_level_of(delivery.promise_option_id, promise_key)
    return dataclasses.replace(delivery, service_level=level)


def _source(snapshot: SourcingSnapshot, demands: list[Demand], lines: list[LineRequest],
            delivery: Delivery, *, now: datetime, sourcer: Sourcer, promise_key: bytes
            ) -> tuple[Decision, tuple[datetime, datetime] | None]:
    """The engine's best plan — or the promised one, re-checked against current stock."""
    request = request_for(snapshot, demands, now=now, address=delivery.address,
                          service_level=delivery.service_level, pickup=delivery.pickup_location)
    if delivery.promise_option_id is None:
        decision = sourcer.decide(request)
        return decision, decision.window()
    assert snapshot.channel is not None
    promised = promise.redeem(
        delivery.promise_option_id, promise_key, now=now, channel=snapshot.channel.code,
        lines=lines, method=delivery.method, service_level=delivery.service_level,
        pickup=delivery.pickup_location, address=delivery.address)
    return sourcer.honour(request, promised.plan), (promised.earliest, promised.latest)


def fulfillments_for(plan: Plan, demands: list[Demand], lines: list[OrderLine],
                     delivery: Delivery) -> list[Fulfillment]:
    """One fulfillment per location of the plan; kits picked as their components."""
    by_location: dict[str, Fulfillment] = {}
    by_line = {d.line: d for d in demands}
    for allocation in plan.allocations:
        code = allocation.location
        transfer = delivery.pickup_location if delivery.pickup_location not in (None, code) \
            else None
        fulfillment = by_location.setdefault(code, Fulfillment(
            str(uuid.uuid4()), code, FulfillmentStatus.ASSIGNED, [],
            service_level=delivery.service_level, transfer_to=transfer))
        line = lines[allocation.line]
        if allocation.component:
            # a split kit's component: `units` counts the component; the kit units it makes
            # are rounded up (kit splitting is off unless a policy allows it)
            per = dict(by_line[allocation.line].parts)[allocation.component]
            fulfillment.lines.append(FulfillmentLine(line.id, allocation.component,
                                                     allocation.units,
                                                     -(-allocation.units // per)))
            continue
        for part, per in by_line[allocation.line].parts:
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
    if order.payment is not None:
        p = order.payment
        order.timeline.append(TimelineEntry(
            at, "PAYMENT_AUTHORIZED", f"Payment of {p.authorized} {order.currency} authorised "
            f"with {p.provider} ({p.reference})", "system",
            public=f"Payment of {p.authorized} {order.currency} authorised"))
    for f in order.fulfillments:
        units = sum(fl.quantity for fl in f.lines)
        transfer = f" for transfer to {f.transfer_to}" if f.transfer_to else ""
        order.timeline.append(TimelineEntry(
            at, "ALLOCATED", f"{units} units allocated to {f.location}{transfer}", "system",
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
