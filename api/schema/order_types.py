"""The order as a caller sees it: Order and what is reachable from it (customer, delivery,
fulfillments, timeline, returns), read through the caller's view of the order.

Every field of `Order` but its `id` is declared with `seen(...)` (or, when it loads more,
takes the view first): a reader of the caller's view (`access.answer_view`) and the domain
order. `Order` keeps no value of its own to answer with, so a field cannot reach the order
except through the view; what the view withholds (the email, the phone, the address, who
acted, other locations' work, staff notes) is masked in the reader, for every way an order
is reached — queries, mutation payloads, nodes, subscriptions.
tests/api/test_audience_canaries.py checks both: the shape, and that no audience is answered
an identity its view withholds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from api.context import Context
from api.schema.catalog import Location
from api.schema.common import (
    Address,
    DeliveryMethod,
    FulfillmentStatus,
    LineStatus,
    Money,
    OrderStatus,
    OrderTag,
    ServiceLevel,
    TrackingStatus,
)
from api.schema.notification_types import OrderDocument, OrderNotification, documents_of
from api.schema.payment_types import OrderPayment, OrderProblem
from api.schema.return_types import Return
from domain import access, orders
from domain.fulfillment import fulfilling, pickup
from domain.service_desk import customers

Info = strawberry.Info[Context, None]


def caller_view(info: Info, order: orders.Order) -> access.OrderView:
    """How much of the order the caller sees (domain/access/__init__.py decides)."""
    return access.answer_view(info.context.principal, order)


def seen(read: Callable[[access.OrderView, orders.Order], Any], *,
         description: str | None = None) -> Any:
    """A field of Order: `read` is given the caller's view of the order and the order."""
    def resolve(root: Any, info: Info) -> Any:
        return read(caller_view(info, root.source), root.source)

    return strawberry.field(resolver=resolve, description=description)


@strawberry.type(description="Who the order is for. A store associate sees the name, and "
                             "the phone only for a pickup at their counter; never the email.")
class Customer:
    email: str | None
    name: str | None
    phone: str | None
    locale: str | None = strawberry.field(
        default=None, description="The language they are written to in (staff and the "
                                  "customer).")

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> Customer:
        c = o.customer
        return cls(email=c.email if view.email else None, name=c.name,
                   phone=c.phone if view.phone else None,
                   locale=c.locale if view.email else None)


@strawberry.type(description="One SKU of an order.")
class OrderLine:
    id: strawberry.ID
    sku: str
    quantity: int
    status: LineStatus
    unit_price: Money
    backordered: int = strawberry.field(description="Units waiting for incoming stock.")
    cancelled: int = strawberry.field(description="Units cancelled.")

    @classmethod
    def from_domain(cls, ln: orders.OrderLine) -> OrderLine:
        return cls(id=strawberry.ID(ln.id), sku=ln.sku, quantity=ln.quantity, status=ln.status,
                   unit_price=Money.from_domain(ln.unit_price), backordered=ln.backordered,
                   cancelled=ln.cancelled)


@strawberry.type(description="Units of one SKU a fulfillment picks.")
class FulfillmentLine:
    sku: str
    quantity: int


@strawberry.type(description="A carrier scan, as the carrier reported it.")
class TrackingEvent:
    status: TrackingStatus
    at: datetime = strawberry.field(description="When the carrier says it happened.")
    location: str | None
    description: str | None
    recorded_at: datetime = strawberry.field(description="When it reached us.")

    @classmethod
    def from_domain(cls, s: orders.TrackingScan) -> TrackingEvent:
        return cls(status=s.status, at=s.at, location=s.location, description=s.description,
                   recorded_at=s.recorded_at)


@strawberry.type(description="The part of an order one location fulfils.")
class Fulfillment(relay.Node):
    id: relay.NodeID[str]
    status: FulfillmentStatus
    location_code: strawberry.Private[str]
    order_id: strawberry.Private[str]
    order_ref: strawberry.Private[orders.Order | None]
    carrier: str | None
    tracking_number: str | None
    service_level: ServiceLevel | None
    lines: list[FulfillmentLine]
    reason: str | None = strawberry.field(description="Why it was rejected or cancelled.")
    shipped_at: datetime | None = strawberry.field(
        description="Handed to the carrier, or to the customer at a pickup counter.")
    delivered_at: datetime | None
    tracking_events: list[TrackingEvent] = strawberry.field(
        description="Carrier scans in carrier time order, late arrivals included.")
    transfer_to_code: strawberry.Private[str | None] = None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        found = await info.context.loaders.location.load(self.location_code)
        assert found is not None
        return Location.from_domain(found)

    async def _order(self, info: Info) -> orders.Order:
        found = self.order_ref or await info.context.loaders.order.load(self.order_id)
        assert found is not None, f"fulfillment {self.id} without its order"
        return found

    @strawberry.field(description="The order this work is for (what the caller may see of "
                                  "it).")
    async def order(self, info: Info) -> Order:
        return Order.from_domain(await self._order(info))

    @strawberry.field(description="What this fulfillment may become next (SPEC §2); no "
                                  "step forward while its order is on hold.")
    async def next_statuses(self, info: Info) -> list[FulfillmentStatus]:
        order = await self._order(info)
        return list(fulfilling.next_steps(order, order.fulfillment(str(self.id))))

    @strawberry.field(description="The pickup store this stock travels to first, if any.")
    async def transfer_to(self, info: Info) -> Location | None:
        if self.transfer_to_code is None:
            return None
        found = await info.context.loaders.location.load(self.transfer_to_code)
        return Location.from_domain(found) if found else None

    @classmethod
    def from_domain(cls, f: orders.Fulfillment, *, order_id: str,
                    order: orders.Order | None = None) -> Fulfillment:
        return cls(id=f.id, status=f.status, location_code=f.location, order_id=order_id,
                   order_ref=order, carrier=f.carrier,
                   tracking_number=f.tracking_number, service_level=f.service_level,
                   lines=[FulfillmentLine(sku=x.sku, quantity=x.quantity) for x in f.lines],
                   reason=f.reason, shipped_at=f.shipped_at, delivered_at=f.delivered_at,
                   tracking_events=[TrackingEvent.from_domain(s) for s in f.tracking],
                   transfer_to_code=f.transfer_to)

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> list[Fulfillment]:
        return [cls.from_domain(f, order_id=o.id, order=o) for f in o.fulfillments
                if view.shows(f.location)]


@strawberry.type(description="Something that happened to an order.")
class TimelineEntry:
    at: datetime
    type: str
    message: str
    actor: str = strawberry.field(description="Staff: `role:subject`, `guest` or `system`; "
                                              "everyone else: `customer`, `guest` or "
                                              "`promessa`.")
    actor_role: str
    before: str | None = strawberry.field(description="For edits: the value before.")
    after: str | None = strawberry.field(description="For edits: the value after.")

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> list[TimelineEntry]:
        if view.internal:
            return [cls(at=t.at, type=t.type, message=t.message, actor=view.actor(t.actor),
                        actor_role=t.role, before=t.before, after=t.after) for t in o.timeline]
        # the customer's own view, and a store's: plain words, no staff names; money only
        # to whoever sees the payment (not stores)
        return [cls(at=t.at, type=t.type, message=t.public or "",
                    actor=view.actor(t.actor),
                    actor_role=view.actor(t.actor), before=None, after=None)
                for t in o.timeline
                if t.public and (view.payment or not t.type.startswith("PAYMENT_"))]


@strawberry.type(description="An internal note on an order (staff only).")
class OrderNote:
    at: datetime
    author: str
    text: str

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> list[OrderNote]:
        if not view.internal:
            return []
        return [cls(at=t.at, author=view.actor(t.actor), text=t.message) for t in o.timeline
                if t.type == "NOTE_ADDED"]


@strawberry.type(description="When the customer was promised delivery.")
class DeliveryWindow:
    earliest: datetime
    latest: datetime

    @classmethod
    def of(cls, o: orders.Order) -> DeliveryWindow | None:
        if o.promised_earliest is None or o.promised_latest is None:
            return None
        return cls(earliest=o.promised_earliest, latest=o.promised_latest)


@strawberry.type(description="How the order reaches the customer.")
class Delivery:
    method: DeliveryMethod
    service_level: ServiceLevel | None
    address: Address | None = strawberry.field(
        description="Where the parcels go: staff, the customer, and a store while it has "
                    "work on the order.")
    pickup_location_code: strawberry.Private[str | None]

    @strawberry.field
    async def pickup_location(self, info: Info) -> Location | None:
        if self.pickup_location_code is None:
            return None
        found = await info.context.loaders.location.load(self.pickup_location_code)
        return Location.from_domain(found) if found else None

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> Delivery:
        d = o.delivery
        address = Address.from_domain(d.address) if d.address and view.address else None
        return cls(method=d.method, service_level=d.service_level, address=address,
                   pickup_location_code=d.pickup_location)


def _tags(view: access.OrderView, o: orders.Order) -> list[OrderTag]:
    return sorted(o.tags) if view.tags else []


@strawberry.type(description="A customer order.")
class Order(relay.Node):
    id: relay.NodeID[str]
    source: strawberry.Private[orders.Order]
    number: str = seen(lambda v, o: o.number)
    status: OrderStatus = seen(lambda v, o: o.status)
    channel: str = seen(lambda v, o: o.channel)
    currency: str = seen(lambda v, o: o.currency)
    lines: list[OrderLine] = seen(lambda v, o: [OrderLine.from_domain(ln) for ln in o.lines])
    delivery: Delivery = seen(Delivery.seen)
    subtotal: Money = seen(lambda v, o: Money.from_domain(o.subtotal))
    shipping: Money = seen(lambda v, o: Money.from_domain(o.shipping))
    tax: Money = seen(lambda v, o: Money.from_domain(o.tax),
                      description="Tax included in, or added to, the total.")
    total: Money = seen(lambda v, o: Money.from_domain(o.total))
    promised_delivery: DeliveryWindow | None = seen(lambda v, o: DeliveryWindow.of(o))
    placed_at: datetime = seen(lambda v, o: o.placed_at)
    placed_by: str = seen(lambda v, o: v.actor(o.placed_by), description=(
        "Who placed it. Staff: `role:subject` or `guest`; the customer and stores: "
        "`customer`, `guest` or `promessa`."))
    customer: Customer = seen(Customer.seen, description="Who the order is for (what the "
                                                         "caller may see of them).")
    fulfillments: list[Fulfillment] = seen(Fulfillment.seen, description=(
        "Where the order is fulfilled. Store associates see only their own locations' "
        "fulfillments."))
    timeline: list[TimelineEntry] = seen(TimelineEntry.seen, description=(
        "Everything that happened, oldest first. Customers and stores see what concerns the "
        "customer, in plain words."))
    tags: list[OrderTag] = seen(_tags, description="Agents' labels (staff and stores; empty "
                                                   "for customers).")
    hold_reason: str | None = seen(lambda v, o: o.hold_reason if v.internal else None,
                                   description="Why the order is on hold (staff only).")
    payment: OrderPayment | None = seen(OrderPayment.seen, description=(
        "How it is paid (NOT_REQUIRED without a payment). Staff see everything, the customer "
        "the status and amounts, stores nothing (null)."))

    @strawberry.field(description="What on this order needs an agent now (staff only; "
                                  "empty for everyone else).")
    def open_problems(self, info: Info) -> list[OrderProblem]:
        if not caller_view(info, self.source).internal:
            return []
        now = info.context.deps.clock.now()
        return [OrderProblem.from_domain(p)
                for p in customers.problems_of(self.source, now=now)]

    @strawberry.field(description="The order's returns, oldest first.")
    async def returns(self, info: Info) -> list[Return]:
        view = caller_view(info, self.source)
        found = await info.context.loaders.returns.load(str(self.id))
        return [Return.from_domain(r, view) for r in found]

    @strawberry.field(description="The mails written to the customer about this order, "
                                  "oldest first: staff and the customer (stores: empty).")
    async def notifications(self, info: Info) -> list[OrderNotification]:
        view = caller_view(info, self.source)
        if not view.email:
            return []
        found = await info.context.loaders.notifications.load(self.source.number)
        return [OrderNotification.seen(view, n) for n in found]

    @strawberry.field(description=(
        "Its printable documents: invoices, credit notes and labels (staff and the "
        "customer); packing slips and shipping labels of a store's own work (staff and the "
        "store)."))
    async def documents(self, info: Info) -> list[OrderDocument]:
        return await documents_of(info, self.source.id, caller_view(info, self.source),
                                  self.source)

    @strawberry.field(description=(
        "Pickup orders: the code the customer says at the counter (staff and the customer; "
        "never the store, which checks it with confirmPickup)."))
    def pickup_code(self, info: Info) -> str | None:
        view = caller_view(info, self.source)
        if not view.email or self.source.delivery.method is not orders.DeliveryMethod.PICKUP:
            return None
        return pickup.pickup_code(info.context.deps.pickup_key, self.source.id)

    @strawberry.field(description="Internal notes, oldest first (staff only).")
    def notes(self, info: Info) -> list[OrderNote]:
        return OrderNote.seen(caller_view(info, self.source), self.source)

    @classmethod
    def from_domain(cls, o: orders.Order) -> Order:
        return cls(id=o.id, source=o)
