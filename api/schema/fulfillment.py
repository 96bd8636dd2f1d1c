"""Locations and carriers: the work queue, the steps of a fulfillment, carrier scans."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeAlias

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.common import (
    FulfillmentStatus,
    PageInfo,
    ServiceLevel,
    TrackingStatus,
    node_id,
    page_size,
)
from api.schema.orders import Fulfillment, Order
from domain import access, orders
from domain.fulfillment import fulfilling, scans

FIELD = ["fulfillmentId"]

ScanIgnoredReason: TypeAlias = scans.ScanIgnored
strawberry.enum(ScanIgnoredReason, name="ScanIgnoredReason", description=(
    "Why an accepted carrier scan changed nothing. DUPLICATE: the same status at the same "
    "instant is already on record (not stored again). OLDER_THAN_NEWEST: dated before the "
    "newest scan on record, so it never moves the status back (kept in the history; a late "
    "DELAYED scan still moves the promised date and is not ignored). "
    "STATUS_NOT_NEXT: the status it reports is not a step forward from the fulfillment's "
    "current one, e.g. PICKED_UP after OUT_FOR_DELIVERY, or DELAYED after DELIVERED (kept in "
    "the history)."))


@strawberry.type
class FulfillmentEdge:
    cursor: str
    node: Fulfillment


@strawberry.type
class FulfillmentConnection:
    total_count: int
    page_info: PageInfo
    edges: list[FulfillmentEdge]


@strawberry.input(description="Names the fulfillment a step applies to.")
class FulfillmentActionInput:
    fulfillment_id: strawberry.ID = strawberry.field(description="`Fulfillment.id`.")


@strawberry.input
class RejectFulfillmentInput:
    fulfillment_id: strawberry.ID
    reason: str = strawberry.field(description="Why the location cannot fulfil it, e.g. "
                                               "ITEM_NOT_FOUND, DAMAGED, NO_CAPACITY.")


@strawberry.input(description="Move ASSIGNED or ACCEPTED work away from its location.")
class RerouteFulfillmentInput:
    fulfillment_id: strawberry.ID
    reason: str = strawberry.field(description="Why, for the timeline, e.g. STORE_CLOSED_EARLY, "
                                               "CUSTOMER_REQUEST.")
    to_location: str | None = strawberry.field(
        default=None, description="The location to take all of the work; omitted: the "
                                  "sourcing engine picks the next best plan.")


@strawberry.input
class ShipFulfillmentInput:
    fulfillment_id: strawberry.ID
    carrier: str
    tracking_number: str
    service_level: ServiceLevel | None = strawberry.field(
        default=None, description="Defaults to the service level the order chose.")


@strawberry.input(description="One carrier scan; the same (fulfillment, status, at) twice is "
                              "stored once. `at` may not be later than the server's clock "
                              "plus 15 minutes (SCAN_IN_FUTURE) nor more than a year back.")
class TrackingEventInput:
    fulfillment_id: strawberry.ID
    status: TrackingStatus
    at: datetime = strawberry.field(description="When it happened, with a time zone.")
    location: str | None = None
    description: str | None = None
    expected_delivery: datetime | None = strawberry.field(
        default=None, description="With DELAYED: when the carrier now expects to deliver "
                                  "(at most about two years ahead); without it the promised "
                                  "latest date moves one working day on.")


@strawberry.type(description="The fulfillment after the step, and its order.")
class FulfillmentPayload:
    fulfillment: Fulfillment | None
    order: Order | None
    user_errors: list[UserError]


@strawberry.type(description="The fulfillment after a carrier scan, and whether the scan "
                             "took effect.")
class TrackingEventPayload:
    fulfillment: Fulfillment | None
    order: Order | None
    user_errors: list[UserError]
    ignored_reason: ScanIgnoredReason | None = strawberry.field(
        default=None, description="Why the scan changed nothing; null when it took effect.")

    @strawberry.field(description="True when the scan was accepted but changed nothing (see "
                                  "`ignoredReason`); false when it moved the fulfillment or "
                                  "was news on its current status, and when it was refused "
                                  "(see `userErrors`).")
    def ignored(self) -> bool:
        return self.ignored_reason is not None


Work = Callable[[], Awaitable[tuple[orders.Order, orders.Fulfillment]]]


async def _payload(work: Work) -> FulfillmentPayload:
    result, errs = await attempt(work)
    if result is None:
        return FulfillmentPayload(fulfillment=None, order=None, user_errors=errs)
    order, f = result
    return FulfillmentPayload(
        fulfillment=Fulfillment.from_domain(f, order_id=order.id, order=order),
        order=Order.from_domain(order), user_errors=[])


async def _step(info: strawberry.Info[Context, None], fulfillment_id: str,
                command: fulfilling.Command) -> FulfillmentPayload:
    ctx = info.context

    async def work() -> tuple[orders.Order, orders.Fulfillment]:
        return await ctx.app.fulfillment.work_on(
            node_id(fulfillment_id, "Fulfillment", field=FIELD), command,
            principal=ctx.principal)

    return await _payload(work)


@strawberry.type
class FulfillmentQuery:
    @strawberry.field(description="A location's work queue, oldest first. Store associates "
                                  "see only their own locations.")
    async def fulfillments(self, info: strawberry.Info[Context, None], location: str,
                           status: list[FulfillmentStatus] | None = None,
                           first: int | None = 20, after: str | None = None
                           ) -> FulfillmentConnection:
        ctx = info.context
        access.require_location(ctx.principal, location, field=["location"])
        page = await ctx.deps.reader.fulfillment_page(
            location, tuple(s.value for s in status or ()), first=page_size(first),
            after=after)
        return FulfillmentConnection(
            total_count=page.total_count,
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
            edges=[FulfillmentEdge(cursor=c, node=Fulfillment.from_domain(f, order_id=order_id))
                for c, (order_id, f) in zip(page.cursors, page.items, strict=True)])


@strawberry.type
class FulfillmentMutation:
    @strawberry.mutation(description="The location takes the work on.")
    async def accept_fulfillment(self, info: strawberry.Info[Context, None],
                                 input: FulfillmentActionInput) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.Accept())

    @strawberry.mutation(description="The location cannot fulfil it (ASSIGNED or ACCEPTED "
                                     "work): its reservation is released and the units are "
                                     "re-sourced at once to the next best location (never "
                                     "one that rejected this order's work) or backordered "
                                     "against incoming stock; units nobody can supply leave "
                                     "the order ON_HOLD for an agent.")
    async def reject_fulfillment(self, info: strawberry.Info[Context, None],
                                 input: RejectFulfillmentInput) -> FulfillmentPayload:
        ctx = info.context

        async def work() -> tuple[orders.Order, orders.Fulfillment]:
            done = await ctx.app.fulfillment.reject(
                node_id(input.fulfillment_id, "Fulfillment", field=FIELD),
                reason=input.reason, principal=ctx.principal, permission="fulfillments.work")
            return done.order, done.rejected

        return await _payload(work)

    @strawberry.mutation(description="Customer service moves work that has not been picked "
                                     "(ASSIGNED or ACCEPTED) away from its location, in one "
                                     "transaction: the old location's reservation is released "
                                     "and the units are reserved at `toLocation` (all of them, "
                                     "or nothing changes: LOCATION_CANNOT_SUPPLY) or where the "
                                     "engine says next best (agents, admins).")
    async def reroute_fulfillment(self, info: strawberry.Info[Context, None],
                                  input: RerouteFulfillmentInput) -> FulfillmentPayload:
        ctx = info.context

        async def work() -> tuple[orders.Order, orders.Fulfillment]:
            done = await ctx.app.fulfillment.reroute(
                node_id(input.fulfillment_id, "Fulfillment", field=FIELD),
                to=input.to_location, reason=input.reason, principal=ctx.principal)
            return done.order, done.rejected

        return await _payload(work)

    @strawberry.mutation(description="Everything is picked from the shelves.")
    async def pick_fulfillment(self, info: strawberry.Info[Context, None],
                               input: FulfillmentActionInput) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.Pick())

    @strawberry.mutation(description="Packed, ready to ship or to hand over.")
    async def pack_fulfillment(self, info: strawberry.Info[Context, None],
                               input: FulfillmentActionInput) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.Pack())

    @strawberry.mutation(description="Handed to the carrier: the reservation becomes a sale "
                                     "(onHand and reserved go down together, in the ledger).")
    async def ship_fulfillment(self, info: strawberry.Info[Context, None],
                               input: ShipFulfillmentInput) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.Ship(
            input.carrier, input.tracking_number, input.service_level))

    @strawberry.mutation(description="A pickup parcel is on the counter shelf; its units stay "
                                     "reserved until the customer collects it.")
    async def mark_ready_for_pickup(self, info: strawberry.Info[Context, None],
                                    input: FulfillmentActionInput) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.MarkReadyForPickup())

    @strawberry.mutation(description="The customer collected the parcel: DELIVERED, and the "
                                     "reservation becomes a sale. With `pickupCode` (the six "
                                     "digits the customer was sent), a wrong code is refused "
                                     "(PICKUP_CODE_MISMATCH) and changes nothing.")
    async def confirm_pickup(self, info: strawberry.Info[Context, None],
                             input: FulfillmentActionInput,
                             pickup_code: str | None = None) -> FulfillmentPayload:
        return await _step(info, input.fulfillment_id, fulfilling.ConfirmPickup(
            code=pickup_code, key=info.context.deps.pickup_key))

    @strawberry.mutation(description="A carrier scan (integration role). A scan dated more "
                                     "than 15 minutes after the server's clock is refused "
                                     "(SCAN_IN_FUTURE) and changes nothing. Duplicates change "
                                     "nothing; a scan older than the newest never moves the "
                                     "status back; both answer `ignored: true` with the "
                                     "reason.")
    async def record_tracking_event(self, info: strawberry.Info[Context, None],
                                    input: TrackingEventInput) -> TrackingEventPayload:
        ctx = info.context
        ignored: list[scans.ScanIgnored | None] = [None]

        async def work() -> tuple[orders.Order, orders.Fulfillment]:
            done = await ctx.app.fulfillment.record_tracking_event(
                node_id(input.fulfillment_id, "Fulfillment", field=FIELD),
                status=orders.TrackingStatus(input.status), at=input.at,
                location=input.location, description=input.description,
                expected_delivery=input.expected_delivery, principal=ctx.principal)
            ignored[0] = done.ignored
            return done.order, done.fulfillment

        shown = await _payload(work)
        return TrackingEventPayload(
            fulfillment=shown.fulfillment, order=shown.order, user_errors=shown.user_errors,
            ignored_reason=ignored[0])
