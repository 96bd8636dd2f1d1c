"""Orders: checkout, the console's order views, and the guest's tracking view."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.context import Context
from api.errors import UserError, attempt
from api.schema.catalog import Location
from api.schema.common import (
    Address,
    AddressInput,
    DeliveryMethod,
    FulfillmentStatus,
    LineStatus,
    Money,
    OrderStatus,
    PageInfo,
    ServiceLevel,
    page_size,
)
from domain import access, errors, orders
from domain.access import Role
from domain.ports import OrderSearch
from domain.services import ordering


@strawberry.type(description="Who the order is for.")
class Customer:
    email: str
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

    @classmethod
    def from_domain(cls, ln: orders.OrderLine) -> OrderLine:
        return cls(id=strawberry.ID(ln.id), sku=ln.sku, quantity=ln.quantity, status=ln.status,
                   unit_price=Money.from_domain(ln.unit_price), backordered=ln.backordered)


@strawberry.type(description="Units of one SKU a fulfillment picks.")
class FulfillmentLine:
    sku: str
    quantity: int


@strawberry.type(description="The part of an order one location fulfils.")
class Fulfillment(relay.Node):
    id: relay.NodeID[str]
    status: FulfillmentStatus
    location_code: strawberry.Private[str]
    carrier: str | None
    tracking_number: str | None
    service_level: ServiceLevel | None
    lines: list[FulfillmentLine]
    parent: strawberry.Private[orders.Order]

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await info.context.loaders.location.load(self.location_code)
        assert found is not None
        return Location.from_domain(found)

    @strawberry.field(description="The order this fulfillment is part of.")
    def order(self) -> Order:
        return Order.from_domain(self.parent)

    @classmethod
    def from_domain(cls, f: orders.Fulfillment, *, order: orders.Order) -> Fulfillment:
        return cls(id=f.id, status=f.status, location_code=f.location, carrier=f.carrier,
                   tracking_number=f.tracking_number, service_level=f.service_level,
                   lines=[FulfillmentLine(sku=x.sku, quantity=x.quantity) for x in f.lines],
                   parent=order)


@strawberry.type(description="Something that happened to an order.")
class TimelineEntry:
    at: datetime
    type: str
    message: str
    actor: str


@strawberry.type(description="When the customer was promised delivery.")
class DeliveryWindow:
    earliest: datetime
    latest: datetime


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


@strawberry.type(description="A customer order.")
class Order(relay.Node):
    id: relay.NodeID[str]
    number: str
    status: OrderStatus
    channel: str
    customer: Customer
    currency: str
    lines: list[OrderLine]
    fulfillments: list[Fulfillment]
    delivery: Delivery
    subtotal: Money
    shipping: Money
    tax: Money = strawberry.field(description="Tax included in, or added to, the total.")
    total: Money
    promised_delivery: DeliveryWindow | None
    placed_at: datetime
    placed_by: str
    timeline: list[TimelineEntry]

    @classmethod
    def from_domain(cls, o: orders.Order) -> Order:
        d = o.delivery
        return cls(
            id=o.id, number=o.number, status=o.status, channel=o.channel,
            customer=Customer(email=o.customer.email, name=o.customer.name,
                              phone=o.customer.phone),
            currency=o.currency, lines=[OrderLine.from_domain(ln) for ln in o.lines],
            fulfillments=[Fulfillment.from_domain(f, order=o) for f in o.fulfillments],
            delivery=Delivery(method=d.method, service_level=d.service_level,
                              address=Address.from_domain(d.address) if d.address else None,
                              pickup_location_code=d.pickup_location),
            subtotal=Money.from_domain(o.subtotal), shipping=Money.from_domain(o.shipping),
            tax=Money.from_domain(o.tax), total=Money.from_domain(o.total),
            promised_delivery=None, placed_at=o.placed_at, placed_by=o.placed_by,
            timeline=[TimelineEntry(at=t.at, type=t.type, message=t.message, actor=t.actor)
                      for t in o.timeline])


@strawberry.type(description="A shipment as the customer sees it.")
class TrackedFulfillment:
    status: FulfillmentStatus
    carrier: str | None
    tracking_number: str | None
    service_level: ServiceLevel | None


@strawberry.type(description="A timeline entry in plain words, for the customer.")
class TrackedEvent:
    at: datetime
    type: str
    message: str


@strawberry.type(description="What a guest with the order number and email may see.")
class TrackedOrder:
    number: str
    status: OrderStatus
    placed_at: datetime
    lines: list[FulfillmentLine]
    promised_delivery: DeliveryWindow | None
    fulfillments: list[TrackedFulfillment]
    timeline: list[TrackedEvent]

    @classmethod
    def from_domain(cls, o: orders.Order) -> TrackedOrder:
        return cls(number=o.number, status=o.status, placed_at=o.placed_at,
                   lines=[FulfillmentLine(sku=ln.sku, quantity=ln.quantity) for ln in o.lines],
                   promised_delivery=None,
                   fulfillments=[TrackedFulfillment(status=f.status, carrier=f.carrier,
                                                    tracking_number=f.tracking_number,
                                                    service_level=f.service_level)
                                 for f in o.fulfillments],
                   timeline=[TrackedEvent(at=t.at, type=t.type, message=t.message)
                             for t in o.timeline])


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    total_count: int
    page_info: PageInfo
    edges: list[OrderEdge]


@strawberry.input
class OrderFilter:
    customer_email: str | None = None
    status: list[OrderStatus] | None = None
    channel: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


@strawberry.input
class CustomerInput:
    email: str
    name: str | None = None
    phone: str | None = None


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int


@strawberry.input
class DeliveryInput:
    method: DeliveryMethod
    service_level: ServiceLevel | None = None
    address: AddressInput | None = None
    pickup_location: str | None = None
    promise_option_id: str | None = None


@strawberry.input
class PlaceOrderInput:
    idempotency_key: str = strawberry.field(
        description="Client-generated (a UUID); retries with the same key and input return "
                    "the same order, with a different input IDEMPOTENCY_KEY_MISMATCH.")
    channel: str
    customer: CustomerInput
    lines: list[OrderLineInput]
    delivery: DeliveryInput
    currency: str | None = strawberry.field(default=None,
                                            description="Defaults to the channel's currency.")


@strawberry.type
class PlaceOrderPayload:
    order: Order | None
    user_errors: list[UserError]


def _command(x: PlaceOrderInput) -> orders.PlaceOrder:
    d = x.delivery
    return orders.PlaceOrder(
        idempotency_key=x.idempotency_key, channel=x.channel,
        customer=orders.Customer(x.customer.email, x.customer.name, x.customer.phone),
        lines=tuple(orders.LineRequest(ln.sku, ln.quantity) for ln in x.lines),
        delivery=orders.Delivery(d.method, d.service_level,
                                 d.address.to_domain() if d.address else None,
                                 d.pickup_location, d.promise_option_id),
        currency=x.currency)


def _readable(ctx: Context, order: orders.Order) -> bool:
    return access.can_read_order(ctx.principal, customer_email=order.customer.email,
                                 fulfillment_locations=frozenset(
                                     f.location for f in order.fulfillments))


@strawberry.type
class OrderQuery:
    @strawberry.field(description="One order by number; null when absent or not yours.")
    async def order(self, info: strawberry.Info[Context, None], number: str) -> Order | None:
        ctx = info.context
        if ctx.principal.role is Role.ANONYMOUS:
            raise errors.Unauthenticated("sign in to read orders (guests: trackOrder)")
        found = await ctx.deps.reader.order_by_number(number)
        return Order.from_domain(found) if found and _readable(ctx, found) else None

    @strawberry.field(description="Orders, newest first. Customers see only their own.")
    async def orders(self, info: strawberry.Info[Context, None], first: int | None = 20,
                     after: str | None = None, filter: OrderFilter | None = None
                     ) -> OrderConnection:
        ctx = info.context
        access.require(ctx.principal, "orders.search")
        flt = filter or OrderFilter()
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
        return OrderConnection(
            total_count=page.total_count,
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
            edges=[OrderEdge(cursor=c, node=Order.from_domain(o))
                   for c, o in zip(page.cursors, page.items, strict=True)])

    @strawberry.field(description="The guest self-service view: the same null for an unknown "
                                  "number and for a wrong email.")
    async def track_order(self, info: strawberry.Info[Context, None], number: str,
                          email: str) -> TrackedOrder | None:
        found = await info.context.deps.reader.order_by_number(number.strip())
        if found is None or found.customer.email != email.strip().lower():
            return None
        return TrackedOrder.from_domain(found)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Check out: validates, prices, sources and reserves "
                                     "stock atomically, exactly once per idempotency key.")
    async def place_order(self, info: strawberry.Info[Context, None],
                          input: PlaceOrderInput) -> PlaceOrderPayload:
        ctx = info.context
        order, errs = await attempt(lambda: ctx.run(lambda: ordering.place_order(
            ctx.deps.reader, ctx.deps.uow, _command(input), principal=ctx.principal,
            clock=ctx.deps.clock, sourcer=ctx.deps.sourcer)))
        return PlaceOrderPayload(order=Order.from_domain(order) if order else None,
                                 user_errors=errs)
