"""Live events over graphql-transport-ws: an order (or all of them), stock levels, a location's
work. Each takes `after`, the last sequence seen, and replays what was missed before going live.

Resolvers check who may follow what and where to start (so refusals are `error` messages with
a code), then return the stream. What an event shows of its order or fulfillment is loaded
when it is delivered, once per batch of events for every subscriber in the process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.context import Context
from api.guard import guest_lookup
from api.realtime import Realtime, Start
from api.schema.catalog import Location
from api.schema.orders import Fulfillment, Order, TrackedOrder
from api.schema.shared_execution import SharedEvent
from domain import access, catalog, orders
from domain.access import lookup
from domain.kernel import errors, events, streams
from domain.kernel.streams import StoredEvent

if TYPE_CHECKING:  # the composition root builds it; resolvers get it from the context
    from persistence.reads import SqlReader

MAX_FILTER = 250
SEQUENCE = ("Position of the event in the stream followed (a decimal string); pass the last "
            "one seen as `after` to resume without missing or repeating an event.")
AFTER = ("The last sequence seen: events after it are replayed first (\"0\" replays the "
         "stream from its start). Omitted: only events from now on. Past retention: error "
         "RESYNC_REQUIRED.")

After = Annotated[str | None, strawberry.argument(description=AFTER)]
GuestEmail = Annotated[str | None, strawberry.argument(
    description="The order's email: lets a guest follow one order, with the guest view "
                "(`tracking`).")]


def _memo() -> Any:
    return dataclasses.field(default_factory=dict)


@strawberry.type(description="Something that happened to an order, with the order as it is now.")
class OrderEvent(SharedEvent):
    sequence: str = strawberry.field(description=SEQUENCE)
    type: str = strawberry.field(description="ORDER_PLACED, FULFILLMENT_SHIPPED, …")
    at: datetime
    source: strawberry.Private[orders.Order | None]
    full: strawberry.Private[bool]
    fulfillment_id: strawberry.Private[str | None]
    memo: strawberry.Private[dict[Any, Any]] = _memo()

    def _view(self, info: strawberry.Info[Context, None]) -> access.OrderView | None:
        """The follower's view of the order as it is now (None: not theirs to see any more,
        e.g. a store whose work on it was rejected or moved)."""
        if self.source is None or not self.full:
            return None
        return access.order_view(info.context.principal, self.source)

    @strawberry.field(description="The order as it is when the event is delivered; null for a "
                                  "guest following with number and email (see `tracking`).")
    def order(self, info: strawberry.Info[Context, None]) -> Order | None:
        if self.source is None or self._view(info) is None:
            return None
        return Order.from_domain(self.source)

    @strawberry.field(description="The guest self-service view of the order, as it is now "
                                  "(the customer, staff, and a guest who gave the email).")
    def tracking(self, info: strawberry.Info[Context, None]) -> TrackedOrder | None:
        if self.source is None:
            return None
        # it shows every shipment: not to a store, who sees only its own work
        if self.full and not access.answer_view(info.context.principal, self.source).whole:
            return None
        info.context.loaders.order.prime(self.source.id, self.source)  # for its documents
        return TrackedOrder.from_domain(self.source)

    @strawberry.field(description="The fulfillment the event is about, as it is now, if any "
                                  "(store associates: only their own locations' work).")
    def fulfillment(self, info: strawberry.Info[Context, None]) -> Fulfillment | None:
        view = self._view(info)
        if self.source is None or view is None or not self.fulfillment_id:
            return None
        found = next((f for f in self.source.fulfillments if f.id == self.fulfillment_id), None)
        if found is None or not view.shows(found.location):
            return None
        return Fulfillment.from_domain(found, order_id=self.source.id, order=self.source)


@strawberry.type(description="A change of one SKU's stock at one location, with the level "
                             "right after it.")
class InventoryEvent(SharedEvent):
    sequence: str = strawberry.field(description=SEQUENCE)
    type: str
    at: datetime
    sku: str
    location: Location
    on_hand: int
    reserved: int
    safety_stock: int
    available: int = strawberry.field(description="max(0, onHand − reserved − safetyStock)")
    reason: str | None = strawberry.field(description="Why it changed: SNAPSHOT, DAMAGED, "
                                                      "ORDER_RESERVED, …")
    memo: strawberry.Private[dict[Any, Any]] = _memo()

    @classmethod
    def build(cls, event: StoredEvent, location: catalog.Location) -> InventoryEvent:
        p = event.payload
        return cls(sequence=str(event.sequence), type=event.type, at=event.at, sku=p["sku"],
                   location=Location.from_domain(location), on_hand=p["onHand"],
                   reserved=p["reserved"], safety_stock=p.get("safetyStock", 0),
                   available=p["available"], reason=p.get("reason"))


@strawberry.type(description="New or changed work for a location.")
class FulfillmentEvent(SharedEvent):
    sequence: str = strawberry.field(description=SEQUENCE)
    type: str = strawberry.field(description="FULFILLMENT_CREATED, …")
    at: datetime
    source: strawberry.Private[orders.Order | None]
    fulfillment_id: strawberry.Private[str | None]
    memo: strawberry.Private[dict[Any, Any]] = _memo()

    @strawberry.field(description="The fulfillment as it is now (null if no longer found).")
    def fulfillment(self) -> Fulfillment | None:
        if self.source is None:
            return None
        found = next((f for f in self.source.fulfillments if f.id == self.fulfillment_id), None)
        if found is None:
            return None
        return Fulfillment.from_domain(found, order_id=self.source.id, order=self.source)


def _refs(events_: list[StoredEvent], key: str) -> set[str]:
    return {e.payload[key] for e in events_ if isinstance(e.payload.get(key), str)}


def _names(values: list[str] | None, *, field: str) -> frozenset[str] | None:
    if values is None:
        return None
    if not 1 <= len(values) <= MAX_FILTER:
        raise errors.InvalidInput(f"{field} must name 1-{MAX_FILTER} codes, or be omitted",
                                  field=[field])
    return frozenset(v.strip() for v in values)


def _realtime(ctx: Context) -> Realtime:
    """The live subscriptions: the app's lifespan binds them before serving (api/app.py)."""
    realtime = ctx.deps.realtime
    assert realtime is not None, "realtime is bound in the lifespan"
    return realtime


# Event objects are built once per batch (and view) and handed to every subscriber, so that
# their executions can be shared (api/schema/shared_execution.py).

async def _order_event_objects(reader: SqlReader, events_: list[StoredEvent], *,
                               full: bool) -> dict[int, OrderEvent]:
    found = await reader.orders_by_number(_refs(events_, "order"))
    out = {}
    for e in events_:
        number, fulfillment = e.payload.get("order"), e.payload.get("fulfillment")
        out[e.sequence] = OrderEvent(
            sequence=str(e.sequence), type=e.type, at=e.at,
            source=found.get(number) if isinstance(number, str) else None, full=full,
            fulfillment_id=fulfillment if isinstance(fulfillment, str) else None)
    return out


async def _inventory_event_objects(reader: SqlReader, events_: list[StoredEvent]
                                   ) -> dict[int, InventoryEvent]:
    levels = [e for e in events_ if streams.is_level_change(e)]
    places = await reader.locations({e.payload["location"] for e in levels})
    # levels reference their location, and locations are never deleted
    return {e.sequence: InventoryEvent.build(e, places[e.payload["location"]]) for e in levels}


async def _fulfillment_event_objects(reader: SqlReader, events_: list[StoredEvent]
                                     ) -> dict[int, FulfillmentEvent]:
    found = await reader.orders_by_fulfillment(_refs(events_, "fulfillment"))
    out = {}
    for e in events_:
        fulfillment = e.payload.get("fulfillment")
        fulfillment = fulfillment if isinstance(fulfillment, str) else None
        out[e.sequence] = FulfillmentEvent(
            sequence=str(e.sequence), type=e.type, at=e.at,
            source=found.get(fulfillment) if fulfillment else None,
            fulfillment_id=fulfillment)
    return out


async def _followed(ctx: Context, number: str, email: str | None) -> orders.Order | None:
    """The order a follower names (a guest with the email they give as proof), looked up as
    `lookup.order_named` says: a wrong email, another customer's order and an unknown number
    are the same one read, refused alike."""
    return await lookup.order_named(ctx.deps.reader, number, principal=ctx.principal,
                                    email=email)


async def _order_events(ctx: Context, start: Start, *, full: bool
                        ) -> AsyncGenerator[OrderEvent, None]:
    async for batch in _realtime(ctx).follow(start):
        built = await batch.shared(f"order-events:{full}", partial(
            _order_event_objects, ctx.deps.reader, batch.events, full=full))
        ctx.fresh_loaders()
        for e in batch.events:
            event = built[e.sequence]
            if full and event.source is not None and \
                    access.order_view(ctx.principal, event.source) is None:
                return  # no longer theirs to follow (a store's work rejected or moved)
            if _money_withheld(ctx.principal, event):
                continue
            yield event


def _money_withheld(principal: access.Principal, event: OrderEvent) -> bool:
    """A movement of the order's money, to a follower not shown its payment (a store): left
    out, as its PAYMENT_* timeline entries are (api/schema/order_types.py)."""
    if not event.type.startswith("PAYMENT_"):
        return False
    if event.source is None:  # the order could not be read: only staff may see money blind
        return principal.role not in access.STAFF
    return not access.answer_view(principal, event.source).payment


async def _inventory_events(ctx: Context, start: Start, *, skus: frozenset[str] | None,
                            locations: frozenset[str] | None
                            ) -> AsyncGenerator[InventoryEvent, None]:
    async for batch in _realtime(ctx).follow(start):
        wanted = [e for e in batch.events
                  if streams.level_matches(e, skus=skus, locations=locations)]
        if not wanted:
            continue
        built = await batch.shared("inventory-events", partial(
            _inventory_event_objects, ctx.deps.reader, batch.events))
        for e in wanted:
            yield built[e.sequence]


async def _fulfillment_events(ctx: Context, start: Start
                              ) -> AsyncGenerator[FulfillmentEvent, None]:
    async for batch in _realtime(ctx).follow(start):
        built = await batch.shared("fulfillment-events", partial(
            _fulfillment_event_objects, ctx.deps.reader, batch.events))
        ctx.fresh_loaders()
        for e in batch.events:
            yield built[e.sequence]


@strawberry.type(description="Live events. Send the token in connection_init: "
                             "{\"Authorization\": \"Bearer <JWT>\"}.")
class Subscription:
    @strawberry.subscription(description="One order's events (its owner, staff, a store with "
                                          "work on it, or a guest giving its email), or every "
                                          "order's events (staff) when `number` is omitted.")
    async def order_events(self, info: strawberry.Info[Context, None],
                           number: str | None = None,
                           after: After = None,
                           email: GuestEmail = None
                           ) -> AsyncGenerator[OrderEvent, None]:
        ctx = info.context
        if number is None:
            access.require(ctx.principal, "orders.follow_all")
            start = await _realtime(ctx).begin(events.ORDERS_STREAM, after)
            return _order_events(ctx, start, full=True)
        number = number.strip()
        if email is not None:
            await guest_lookup(ctx, number)
        found = await _followed(ctx, number, email)
        full = access.order_follower(
            ctx.principal, number=number, customer_email=found.customer.email if found else None,
            fulfillment_locations=access.work_locations(found) if found else frozenset(),
            email=email)
        start = await _realtime(ctx).begin(events.order_stream(number), after)
        return _order_events(ctx, start, full=full)

    @strawberry.subscription(description="Stock level changes, optionally only for some SKUs "
                                          "and/or locations, each with the new `available`.")
    async def inventory_events(self, info: strawberry.Info[Context, None],
                               skus: list[str] | None = None,
                               locations: list[str] | None = None,
                               after: After = None
                               ) -> AsyncGenerator[InventoryEvent, None]:
        ctx = info.context
        wanted_skus = _names(skus, field="skus")
        wanted_locations = access.inventory_scope(
            ctx.principal, _names(locations, field="locations"), field=["locations"])
        start = await _realtime(ctx).begin(events.INVENTORY_STREAM, after)
        return _inventory_events(ctx, start, skus=wanted_skus, locations=wanted_locations)

    @strawberry.subscription(description="New and changed work for one location (its store "
                                          "associates and staff).")
    async def fulfillment_events(self, info: strawberry.Info[Context, None], location: str,
                                 after: After = None
                                 ) -> AsyncGenerator[FulfillmentEvent, None]:
        ctx = info.context
        access.require_location(ctx.principal, location, field=["location"])
        if not await ctx.deps.reader.locations([location]):
            raise errors.UnknownLocation(f"unknown location {location!r}", field=["location"])
        start = await _realtime(ctx).begin(events.location_stream(location), after)
        return _fulfillment_events(ctx, start)
