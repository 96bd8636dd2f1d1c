"""Inventory: availability for storefronts, stock feeds for ERP/WMS integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from api.context import Context
from api.errors import UserError, attempt
from api.schema.catalog import Location
from api.schema.common import GeoPointInput, node_id
from domain import access, inventory
from domain.inventory import availability as availability_service
from domain.inventory import services as inventory_service
from domain.kernel import errors
from domain.kernel.geo import GeoPoint

MAX_AVAILABILITY_SKUS = 250


async def _location(info: strawberry.Info[Context, None], code: str) -> Location:
    found = await info.context.loaders.location.load(code)
    assert found is not None, f"location {code} vanished"
    return Location.from_domain(found)


@strawberry.type(description="Stock of one SKU at one location.")
class InventoryLevel:
    sku: str
    location_code: strawberry.Private[str]
    on_hand: int
    reserved: int
    safety_stock: int
    available: int = strawberry.field(description="max(0, onHand − reserved − safetyStock)")

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_domain(cls, lv: inventory.InventoryLevel) -> InventoryLevel:
        return cls(sku=lv.sku, location_code=lv.location, on_hand=lv.on_hand,
                   reserved=lv.reserved, safety_stock=lv.safety_stock, available=lv.available)


@strawberry.type(description="Expected receipt: purchase order, transfer or supplier ASN.")
class Incoming(relay.Node):
    id: relay.NodeID[str]
    sku: str
    location_code: strawberry.Private[str]
    quantity: int
    expected_at: datetime
    received_at: datetime | None
    received_quantity: int | None

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_domain(cls, x: inventory.Incoming) -> Incoming:
        return cls(id=x.id, sku=x.sku, location_code=x.location, quantity=x.quantity,
                   expected_at=x.expected_at, received_at=x.received_at,
                   received_quantity=x.received_quantity)


@strawberry.type(description="A SKU's stock at one location of the channel. The raw figures "
                             "(onHand, reserved, safetyStock) are for staff and the location's "
                             "own associates; a storefront sees `available`.")
class LocationAvailability:
    location: Location
    on_hand: int | None
    reserved: int | None
    safety_stock: int | None
    available: int
    distance_km: float | None = strawberry.field(description="From `near`, great-circle.")


@strawberry.type(description="A SKU's availability across the channel's network.")
class SkuAvailability:
    sku: str
    available: int = strawberry.field(description="Sum of `available` over the channel's "
                                                  "locations (for kits: complete kits).")
    locations: list[LocationAvailability]
    incoming: list[Incoming]
    known: bool = strawberry.field(
        default=True, description="False when no SKU has this code (a typo, or not imported "
                                  "yet): `available` is then 0 because nothing is known of it, "
                                  "not because it sold out.")


@strawberry.input
class InventoryLevelInput:
    sku: str
    location: str
    on_hand: int
    safety_stock: int | None = strawberry.field(default=None,
                                                description="Unchanged when omitted.")


@strawberry.input
class SetInventoryInput:
    reason: str = "SNAPSHOT"
    levels: list[InventoryLevelInput]


@strawberry.type
class SetInventoryPayload:
    levels: list[InventoryLevel]
    user_errors: list[UserError]


@strawberry.input
class AdjustInventoryInput:
    sku: str
    location: str
    delta: int
    reason: str
    reference: str | None = None


@strawberry.type
class AdjustInventoryPayload:
    level: InventoryLevel | None
    user_errors: list[UserError]


@strawberry.input
class ExpectIncomingInput:
    sku: str
    location: str
    quantity: int
    expected_at: datetime = strawberry.field(description=(
        "When it is expected, with a time zone: at most 731 days after now and 366 days "
        "before (INVALID_INPUT on `expectedAt` otherwise)."))
    reference: str | None = None


@strawberry.type
class ExpectIncomingPayload:
    incoming: Incoming | None
    user_errors: list[UserError]


@strawberry.input
class ReceiveIncomingInput:
    incoming_id: strawberry.ID = strawberry.field(description="`Incoming.id`.")
    quantity: int | None = strawberry.field(
        default=None, description="What really arrived; the expected quantity when omitted.")


@strawberry.type(description="An order served from a receipt.")
class BackorderAllocation:
    order_number: str
    quantity: int


@strawberry.type
class ReceiveIncomingPayload:
    incoming: Incoming | None
    level: InventoryLevel | None
    allocations: list[BackorderAllocation] = strawberry.field(
        description="Backorders served from the receipt, first come first served.")
    user_errors: list[UserError]


@strawberry.type
class InventoryQuery:
    @strawberry.field(description="Availability of SKUs for a channel, per location, with "
                                  "distances from `near` and locations beyond `radiusKm` left out.")
    async def availability(self, info: strawberry.Info[Context, None], skus: list[str],
                           channel: str, near: GeoPointInput | None = None,
                           radius_km: float | None = None) -> list[SkuAvailability]:
        if len(skus) > MAX_AVAILABILITY_SKUS:
            raise errors.InvalidInput(f"at most {MAX_AVAILABILITY_SKUS} skus", field=["skus"])
        point = GeoPoint(near.latitude, near.longitude) if near else None
        if point is not None and not point.valid():
            raise errors.InvalidInput("near must be a valid latitude/longitude", field=["near"])
        if radius_km is not None and not 0 <= radius_km <= 20_000:
            raise errors.InvalidInput("radiusKm must be 0-20000", field=["radiusKm"])
        reader = info.context.deps.reader
        catalog, locations, levels, incoming = await reader.availability(skus, channel)
        if not locations and await reader.channel(channel) is None:
            # asked only when nothing came back: a known channel costs no extra statement
            raise errors.UnknownChannel(f"unknown channel {channel!r}", field=["channel"])
        rows = availability_service.summarise(skus, catalog=catalog, locations=locations,
                                              levels=levels, incoming=incoming, near=point,
                                              radius_km=radius_km)
        principal = info.context.principal

        def at(x: Any) -> LocationAvailability:
            raw = access.sees_location_levels(principal, x.location)
            return LocationAvailability(
                location=Location.from_domain(locations[x.location]),
                on_hand=x.on_hand if raw else None, reserved=x.reserved if raw else None,
                safety_stock=x.safety_stock if raw else None, available=x.available,
                distance_km=x.distance_km)

        return [SkuAvailability(
            sku=r.sku, available=r.available, locations=[at(x) for x in r.locations],
            incoming=[Incoming.from_domain(x) for x in r.incoming], known=r.sku in catalog)
            for r in rows]


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(description="Stock snapshot from an ERP/WMS: sets onHand (and safety "
                                     "stock); the ledger records the difference.")
    async def set_inventory(self, info: strawberry.Info[Context, None],
                            input: SetInventoryInput) -> SetInventoryPayload:
        ctx = info.context
        snapshot = [inventory_service.LevelSnapshot(x.sku, x.location, x.on_hand, x.safety_stock)
                    for x in input.levels]
        levels, errs = await attempt(lambda: ctx.app.inventory.set_levels(
            snapshot, reason=input.reason, principal=ctx.principal))
        return SetInventoryPayload(levels=[InventoryLevel.from_domain(lv) for lv in levels or []],
                                   user_errors=errs)

    @strawberry.mutation(description="Change onHand by a delta with a reason.")
    async def adjust_inventory(self, info: strawberry.Info[Context, None],
                               input: AdjustInventoryInput) -> AdjustInventoryPayload:
        ctx = info.context
        level, errs = await attempt(lambda: ctx.app.inventory.adjust(
            sku=input.sku, location=input.location, delta=input.delta,
            reason=input.reason, reference=input.reference, principal=ctx.principal))
        return AdjustInventoryPayload(
            level=InventoryLevel.from_domain(level) if level else None, user_errors=errs)

    @strawberry.mutation(description="Announce an expected receipt.")
    async def expect_incoming(self, info: strawberry.Info[Context, None],
                              input: ExpectIncomingInput) -> ExpectIncomingPayload:
        ctx = info.context
        incoming, errs = await attempt(lambda: ctx.app.inventory.expect_incoming(
            sku=input.sku, location=input.location, quantity=input.quantity,
            expected_at=input.expected_at, reference=input.reference, principal=ctx.principal))
        return ExpectIncomingPayload(
            incoming=Incoming.from_domain(incoming) if incoming else None, user_errors=errs)



    @strawberry.mutation(description="An expected receipt arrived: onHand goes up and waiting "
                                     "backorders are allocated first come, first served, in "
                                     "the same transaction.")
    async def receive_incoming(self, info: strawberry.Info[Context, None],
                               input: ReceiveIncomingInput) -> ReceiveIncomingPayload:
        ctx = info.context
        receipt, errs = await attempt(lambda: ctx.app.inventory.receive_incoming(
            node_id(input.incoming_id, "Incoming", field=["incomingId"]),
            quantity=input.quantity, principal=ctx.principal))
        if receipt is None:
            return ReceiveIncomingPayload(incoming=None, level=None, allocations=[],
                                          user_errors=errs)
        return ReceiveIncomingPayload(
            incoming=Incoming.from_domain(receipt.incoming),
            level=InventoryLevel.from_domain(receipt.level),
            allocations=[BackorderAllocation(order_number=n, quantity=q)
                         for n, q in receipt.allocated], user_errors=[])
