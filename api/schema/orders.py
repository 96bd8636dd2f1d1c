"""Orders: checkout, the console's order views, and the guest's tracking view."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.context import Context
from api.guard import guest_lookup
from api.schema.catalog import Location
from api.schema.common import (
    Address,
    DeliveryMethod,
    FulfillmentStatus,
    LineStatus,
    Money,
    OrderStatus,
    OrderTag,
    PageInfo,
    ServiceLevel,
    TrackingStatus,
    page_size,
)
from api.schema.return_types import Return
from domain import access, orders
from domain.access import Role
from domain.fulfillment import fulfilling
from domain.kernel import errors
from domain.kernel.ports import Page
from domain.orders.ports import OrderSearch


@strawberry.type(description="Who the order is for. A store associate sees the name, and "
                             "the phone only for a pickup at their counter; never the email.")
class Customer:
    email: str | None
    name: str | None
    phone: str | None


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
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await info.context.loaders.location.load(self.location_code)
        assert found is not None
        return Location.from_domain(found)

    async def _order(self, info: strawberry.Info[Context, None]) -> orders.Order:
        found = self.order_ref or await info.context.loaders.order.load(self.order_id)
        assert found is not None, f"fulfillment {self.id} without its order"
        return found

    @strawberry.field(description="The order this work is for.")
    async def order(self, info: strawberry.Info[Context, None]) -> Order:
        return Order.from_domain(await self._order(info))

    @strawberry.field(description="What this fulfillment may become next (SPEC §2); no "
                                  "step forward while its order is on hold.")
    async def next_statuses(self, info: strawberry.Info[Context, None]
                            ) -> list[FulfillmentStatus]:
        order = await self._order(info)
        return list(fulfilling.next_steps(order, order.fulfillment(str(self.id))))
    @strawberry.field(description="The pickup store this stock travels to first, if any.")
    async def transfer_to(self, info: strawberry.Info[Context, None]) -> Location | None:
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


@strawberry.type(description="Something that happened to an order.")
class TimelineEntry:
    at: datetime
    type: str
    message: str
    actor: str = strawberry.field(description="`role:subject`, `guest` or `system`.")
    actor_role: str
    before: str | None = strawberry.field(description="For edits: the value before.")
    after: str | None = strawberry.field(description="For edits: the value after.")

    @classmethod
    def from_domain(cls, t: orders.TimelineEntry, *, public: bool = False) -> TimelineEntry:
        if public:  # the customer's own view: plain words, no staff names
            actor = t.role if t.role in ("customer", "guest") else "promessa"
            return cls(at=t.at, type=t.type, message=t.public or "", actor=actor,
                       actor_role=actor, before=None, after=None)
        return cls(at=t.at, type=t.type, message=t.message, actor=t.actor, actor_role=t.role,
                   before=t.before, after=t.after)


@strawberry.type(description="An internal note on an order (staff only).")
class OrderNote:
    at: datetime
    author: str
    text: str


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
    address: Address | None
    pickup_location_code: strawberry.Private[str | None]

    @strawberry.field
    async def pickup_location(self, info: strawberry.Info[Context, None]) -> Location | None:
        if self.pickup_location_code is None:
            return None
        found = await info.context.loaders.location.load(self.pickup_location_code)
        return Location.from_domain(found) if found else None


def _view(info: strawberry.Info[Context, None], order: orders.Order) -> access.OrderView:
    """How much of the order the caller sees (domain/access/__init__.py decides)."""
    return access.answer_view(info.context.principal, order)


@strawberry.type(description="A customer order.")
class Order(relay.Node):
    id: relay.NodeID[str]
    number: str
    status: OrderStatus
    channel: str
    currency: str
    lines: list[OrderLine]
    delivery: Delivery
    subtotal: Money
    shipping: Money
    tax: Money = strawberry.field(description="Tax included in, or added to, the total.")
    total: Money
    promised_delivery: DeliveryWindow | None
    placed_at: datetime
    placed_by: str
    entries: strawberry.Private[list[orders.TimelineEntry]]
    tag_set: strawberry.Private[frozenset[orders.OrderTag]]
    held_for: strawberry.Private[str | None]
    source: strawberry.Private[orders.Order]

    @strawberry.field(description="Who the order is for (what the caller may see of them).")
    def customer(self, info: strawberry.Info[Context, None]) -> Customer:
        view, c = _view(info, self.source), self.source.customer
        return Customer(email=c.email if view.email else None, name=c.name,
                        phone=c.phone if view.phone else None)

    @strawberry.field(description="Where the order is fulfilled. Store associates see only "
                                  "their own locations' fulfillments.")
    def fulfillments(self, info: strawberry.Info[Context, None]) -> list[Fulfillment]:
        view = _view(info, self.source)
        return [Fulfillment.from_domain(f, order_id=self.source.id, order=self.source)
                for f in self.source.fulfillments if view.shows(f.location)]

    @strawberry.field(description="Everything that happened, oldest first. Customers and "
                                  "stores see what concerns the customer, in plain words.")
    def timeline(self, info: strawberry.Info[Context, None]) -> list[TimelineEntry]:
        if _view(info, self.source).internal:
            return [TimelineEntry.from_domain(t) for t in self.entries]
        return [TimelineEntry.from_domain(t, public=True) for t in self.entries if t.public]

    @strawberry.field(description="Agents' labels (staff and stores; empty for customers).")
    def tags(self, info: strawberry.Info[Context, None]) -> list[OrderTag]:
        return sorted(self.tag_set) if _view(info, self.source).tags else []

    @strawberry.field(description="Why the order is on hold (staff only).")
    def hold_reason(self, info: strawberry.Info[Context, None]) -> str | None:
        return self.held_for if _view(info, self.source).internal else None

    @strawberry.field(description="The order's returns, oldest first.")
    async def returns(self, info: strawberry.Info[Context, None]) -> list[Return]:
        found = await info.context.loaders.returns.load(str(self.id))
        return [Return.from_domain(r) for r in found]

    @strawberry.field(description="Internal notes, oldest first (staff only).")
    def notes(self, info: strawberry.Info[Context, None]) -> list[OrderNote]:
        if not _view(info, self.source).internal:
            return []
        return [OrderNote(at=t.at, author=t.actor, text=t.message) for t in self.entries
                if t.type == "NOTE_ADDED"]

    @classmethod
    def from_domain(cls, o: orders.Order) -> Order:
        d = o.delivery
        return cls(
            id=o.id, number=o.number, status=o.status, channel=o.channel,
            currency=o.currency, lines=[OrderLine.from_domain(ln) for ln in o.lines],
            delivery=Delivery(method=d.method, service_level=d.service_level,
                              address=Address.from_domain(d.address) if d.address else None,
                              pickup_location_code=d.pickup_location),
            subtotal=Money.from_domain(o.subtotal), shipping=Money.from_domain(o.shipping),
            tax=Money.from_domain(o.tax), total=Money.from_domain(o.total),
            promised_delivery=DeliveryWindow.of(o), placed_at=o.placed_at, placed_by=o.placed_by,
            entries=o.timeline, tag_set=o.tags, held_for=o.hold_reason, source=o)


@strawberry.type(description="A shipment as the customer sees it.")
class TrackedFulfillment:
    status: FulfillmentStatus
    carrier: str | None
    tracking_number: str | None
    service_level: ServiceLevel | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    tracking_events: list[TrackingEvent]


@strawberry.type(description="A timeline entry in plain words, for the customer.")
class TrackedEvent:
    at: datetime
    type: str
    message: str


@strawberry.type(description="The store a pickup order is collected from.")
class PickupStore:
    code: str
    name: str
    address: Address
    time_zone: str = strawberry.field(description="IANA time zone of the store's clock.")


@strawberry.type(description="What a guest with the order number and email may see.")
class TrackedOrder:
    number: str
    status: OrderStatus
    placed_at: datetime
    lines: list[FulfillmentLine]
    promised_delivery: DeliveryWindow | None
    fulfillments: list[TrackedFulfillment]
    timeline: list[TrackedEvent] = strawberry.field(
        description="What happened, in plain words; staff notes and reasons are left out.")
    delivery_method: DeliveryMethod = strawberry.field(
        description="SHIP to an address or PICKUP at a store.")
    order_id: strawberry.Private[str]
    pickup_location_code: strawberry.Private[str | None] = None

    @strawberry.field(description="Pickup orders: the store to collect from.")
    async def pickup_store(self, info: strawberry.Info[Context, None]) -> PickupStore | None:
        if self.pickup_location_code is None:
            return None
        found = await info.context.loaders.location.load(self.pickup_location_code)
        if found is None:
            return None
        return PickupStore(code=found.code, name=found.name,
                           address=Address.from_domain(found.address),
                           time_zone=found.time_zone)

    @strawberry.field(description="Pickup orders: when the order was promised ready to "
                                  "collect (the end of the promised window).")
    def ready_by(self) -> datetime | None:
        if self.delivery_method is not DeliveryMethod.PICKUP or self.promised_delivery is None:
            return None
        return self.promised_delivery.latest

    @strawberry.field(description="The order's returns, with their label or drop-off code.")
    async def returns(self, info: strawberry.Info[Context, None]) -> list[Return]:
        found = await info.context.loaders.returns.load(self.order_id)
        return [Return.from_domain(r) for r in found]

    @classmethod
    def from_domain(cls, o: orders.Order) -> TrackedOrder:
        return cls(order_id=o.id, number=o.number, status=o.status, placed_at=o.placed_at,
                   delivery_method=o.delivery.method,
                   pickup_location_code=o.delivery.pickup_location,
                   lines=[FulfillmentLine(sku=ln.sku, quantity=ln.quantity) for ln in o.lines],
                   promised_delivery=DeliveryWindow.of(o),
                   fulfillments=[TrackedFulfillment(
                       status=f.status, carrier=f.carrier, tracking_number=f.tracking_number,
                       service_level=f.service_level, shipped_at=f.shipped_at,
                       delivered_at=f.delivered_at,
                       tracking_events=[TrackingEvent.from_domain(s) for s in f.tracking])
                       for f in o.fulfillments],
                   timeline=[TrackedEvent(at=t.at, type=t.type, message=t.public)
                             for t in o.timeline if t.public])


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    total_count: int
    page_info: PageInfo
    edges: list[OrderEdge]

    @classmethod
    def from_page(cls, page: Page, *, after: str | None) -> OrderConnection:
        return cls(total_count=page.total_count,
                   page_info=PageInfo.of(page.cursors, has_next=page.has_next,
                                         has_previous=bool(after)),
                   edges=[OrderEdge(cursor=c, node=Order.from_domain(o))
                          for c, o in zip(page.cursors, page.items, strict=True)])


@strawberry.input
class OrderFilter:
    customer_email: str | None = None
    status: list[OrderStatus] | None = None
    channel: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


@strawberry.type
class OrderQuery:
    @strawberry.field(description="One order by number; null when absent or not yours.")
    async def order(self, info: strawberry.Info[Context, None], number: str) -> Order | None:
        ctx = info.context
        found = await ctx.deps.reader.order_by_number(number)
        if found is None or access.order_view(ctx.principal, found) is None:
            return None
        return Order.from_domain(found)

    @strawberry.field(description="Orders, newest first. Customers see only their own.")
    async def orders(self, info: strawberry.Info[Context, None], first: int | None = 20,
                     after: str | None = None, filter: OrderFilter | None = None
                     ) -> OrderConnection:
        ctx = info.context
        flt = filter or OrderFilter()
        for name, moment in (("placedFrom", flt.placed_from), ("placedTo", flt.placed_to)):
            if moment is not None and moment.tzinfo is None:
                raise errors.InvalidInput(f"{name} needs a time zone", field=["filter", name])
        email = flt.customer_email
        if ctx.principal.role is Role.CUSTOMER:
            # customers search only their own orders, whatever they ask for
            if email is not None and email.strip().lower() != ctx.principal.email:
                return OrderConnection(total_count=0, edges=[], page_info=PageInfo.of(
                    [], has_next=False, has_previous=False))
            email = ctx.principal.email
        page = await ctx.deps.reader.order_page(OrderSearch(
            customer_email=email.strip().lower() if email else None,
            statuses=tuple(s.value for s in flt.status or ()), channel=flt.channel,
            placed_from=flt.placed_from, placed_to=flt.placed_to),
            first=page_size(first), after=after)
        return OrderConnection.from_page(page, after=after)

    @strawberry.field(description="The guest self-service view: the same null for an unknown "
                                  "number and for a wrong email.")
    async def track_order(self, info: strawberry.Info[Context, None], number: str,
                          email: str) -> TrackedOrder | None:
        await guest_lookup(info.context, number)
        found = await info.context.deps.reader.order_by_number(number.strip())
        if found is None or found.customer.email != email.strip().lower():
            return None
        return TrackedOrder.from_domain(found)
