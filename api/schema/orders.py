"""Orders: the console's order queries and the guest's tracking view (the order as a signed-in
caller sees it is in order_types.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Context
from api.guard import guest_lookup
from api.schema.common import (
    Address,
    DeliveryMethod,
    FulfillmentStatus,
    OrderStatus,
    PageInfo,
    ServiceLevel,
    page_size,
)
from api.schema.hours import OpeningHours
from api.schema.notification_types import OrderDocument, documents_of
from api.schema.order_types import (
    DeliveryWindow,
    Fulfillment,
    FulfillmentLine,
    Order,
    TrackingEvent,
)
from api.schema.return_types import Return
from domain import access, orders
from domain.access import Role, lookup
from domain.fulfillment import pickup
from domain.kernel import errors
from domain.kernel.ports import Page
from domain.orders.ports import OrderSearch


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
    opening_hours: OpeningHours | None = strawberry.field(
        default=None, description="When the store is open to collect (null: no hours "
                                  "configured).")


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

    @strawberry.field(description=(
        "Its printable documents: invoices, credit notes, shipping and return labels."))
    async def documents(self, info: strawberry.Info[Context, None]) -> list[OrderDocument]:
        return await documents_of(info, self.order_id, access.OWNER_VIEW)

    @strawberry.field(description="Pickup orders: the store to collect from.")
    async def pickup_store(self, info: strawberry.Info[Context, None]) -> PickupStore | None:
        if self.pickup_location_code is None:
            return None
        found = await info.context.loaders.location.load(self.pickup_location_code)
        if found is None:
            return None
        return PickupStore(code=found.code, name=found.name,
                           address=Address.from_domain(found.address),
                           time_zone=found.time_zone, opening_hours=OpeningHours.of(found))

    @strawberry.field(description="Pickup orders: the code to say at the counter.")
    def pickup_code(self, info: strawberry.Info[Context, None]) -> str | None:
        if self.delivery_method is not DeliveryMethod.PICKUP:
            return None
        return pickup.pickup_code(info.context.deps.pickup_key, self.order_id)

    @strawberry.field(description="Pickup orders: when the order was promised ready to "
                                  "collect (the end of the promised window).")
    def ready_by(self) -> datetime | None:
        if self.delivery_method is not DeliveryMethod.PICKUP or self.promised_delivery is None:
            return None
        return self.promised_delivery.latest

    @strawberry.field(description="The order's returns, with their label or drop-off code.")
    async def returns(self, info: strawberry.Info[Context, None]) -> list[Return]:
        found = await info.context.loaders.returns.load(self.order_id)
        # whoever is shown the tracking view gave the order's email: the customer's own view
        return [Return.from_domain(r, access.OWNER_VIEW) for r in found]

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
        if ctx.principal.role in (Role.CUSTOMER, Role.ANONYMOUS):
            # one read by number and email: another customer's order is not found either
            found = await lookup.order_named(ctx.deps.reader, number, principal=ctx.principal)
        else:  # batched: the webhook renderer asks for many orders in one context at once
            found = await ctx.loaders.order_by_number.load(number)
        if found is None or access.order_view(ctx.principal, found) is None:
            return None
        ctx.loaders.order.prime(found.id, found)
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
        found = await info.context.deps.reader.order_for_guest(number.strip(),
                                                               email.strip().lower())
        if found is None:
            return None
        info.context.loaders.order.prime(found.id, found)  # its documents need it again
        return TrackedOrder.from_domain(found)


__all__ = ["Fulfillment", "Order", "OrderConnection", "OrderQuery", "TrackedOrder"]
