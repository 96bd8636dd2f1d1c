"""The network and the catalog: locations, SKUs, channels."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry import relay

from api.context import Context
from api.errors import UserError, attempt
from api.schema.common import (
    Address,
    AddressInput,
    Capability,
    HandlingClass,
    LocationType,
    Money,
    PageInfo,
    TaxClass,
    page_size,
)
from api.schema.hours import OpeningHours, OpeningHoursInput
from domain import access, catalog


@strawberry.type(description="Where stock is and from where it can leave.")
class Location(relay.Node):
    key: relay.NodeID[str]
    code: str
    name: str
    type: LocationType
    address: Address
    capabilities: list[Capability]
    handling_classes: list[HandlingClass]
    channels: list[str]
    time_zone: str
    cutoff_time: str = strawberry.field(description="Daily order cut-off, HH:MM local time.")
    processing_hours: int
    active: bool
    opening_hours: OpeningHours | None = strawberry.field(description=(
        "When it works, in its time zone: pickups are ready, same-day parcels leave and "
        "processing runs only within these hours, and each day's cut-off lies inside them. "
        "Null: no hours configured, open around the clock."))
    source: strawberry.Private[catalog.Location]

    def _internal(self, info: strawberry.Info[Context, None]) -> bool:
        return access.sees_network_internals(info.context.principal)

    @strawberry.field(description="Fulfillments per day (staff only; null when unlimited).")
    def daily_capacity(self, info: strawberry.Info[Context, None]) -> int | None:
        return self.source.daily_capacity if self._internal(info) else None

    @strawberry.field(description="Cost of one shipment from here (staff only).")
    def cost_per_shipment(self, info: strawberry.Info[Context, None]) -> Decimal | None:
        return self.source.cost_per_shipment if self._internal(info) else None

    @strawberry.field(description="Cost per kg shipped from here (staff only).")
    def cost_per_kg(self, info: strawberry.Info[Context, None]) -> Decimal | None:
        return self.source.cost_per_kg if self._internal(info) else None

    @strawberry.field(description="Line-haul emission intensity of the road freight carrying "
                                  "this location's parcels, in kg CO2e per tonne-km (= grams "
                                  "per kg per km); each shipped parcel also counts a fixed "
                                  "last-mile drop (staff only).")
    def carbon_factor(self, info: strawberry.Info[Context, None]) -> float | None:
        return self.source.carbon_factor if self._internal(info) else None

    @strawberry.field(description="THIRD_PARTY locations: minutes their integration has to "
                      "acknowledge (accept) work offered to it (FULFILLMENT_ASSIGNED) before "
                      "the work is re-sourced (staff only; null when unlimited).")
    def ack_minutes(self, info: strawberry.Info[Context, None]) -> int | None:
        return self.source.ack_minutes if self._internal(info) else None

    @classmethod
    def from_domain(cls, loc: catalog.Location) -> Location:
        return cls(key=loc.code, code=loc.code, name=loc.name, type=loc.type,
                   address=Address.from_domain(loc.address),
                   capabilities=sorted(loc.capabilities), channels=list(loc.channels),
                   handling_classes=sorted(loc.handling_classes), time_zone=loc.time_zone,
                   cutoff_time=loc.cutoff_time.strftime("%H:%M"),
                   processing_hours=loc.processing_hours, active=loc.active,
                   opening_hours=OpeningHours.of(loc), source=loc)


@strawberry.type(description="One component of a kit.")
class KitComponent:
    sku: str
    quantity: int


@strawberry.type(description="A sellable item, or a kit made of items.")
class Sku(relay.Node):
    key: relay.NodeID[str]
    sku: str
    name: str
    product_group: str
    handling: HandlingClass
    weight_grams: int
    prices: list[Money]
    backorderable: bool
    preorderable: bool
    components: list[KitComponent] = strawberry.field(description="Empty unless a kit.")
    tax_class: TaxClass = strawberry.field(description="Its VAT rate class; the rate is the "
                                                       "class's in the destination country.")

    @classmethod
    def from_domain(cls, s: catalog.Sku) -> Sku:
        return cls(key=s.sku, sku=s.sku, name=s.name, product_group=s.product_group,
                   handling=s.handling, weight_grams=s.weight_grams,
                   prices=[Money(amount=a, currency=c) for c, a in sorted(s.prices.items())],
                   backorderable=s.backorderable, preorderable=s.preorderable,
                   components=[KitComponent(sku=c.sku, quantity=c.quantity)
                               for c in s.components], tax_class=s.tax_class)


@strawberry.type(description="Where orders come from.")
class Channel:
    code: str
    name: str
    currencies: list[str] = strawberry.field(description="Currencies sold in, default first.")
    payment_required: bool = strawberry.field(
        default=False, description="Orders only with a payment (placeOrder's `payment`; "
                                   "PAYMENT_REQUIRED without one).")
    sender_name: str | None = strawberry.field(
        default=None, description="The display name customer mails of this channel come from.")
    brand_color: str | None = strawberry.field(
        default=None, description="The accent colour of its mails (#rrggbb).")
    locale: str | None = strawberry.field(
        default=None, description="The language of its mails when an order names none.")

    @classmethod
    def from_domain(cls, c: catalog.Channel) -> Channel:
        return cls(code=c.code, name=c.name, currencies=list(c.currencies),
                   payment_required=c.payment_required, sender_name=c.sender_name,
                   brand_color=c.brand_color, locale=c.locale)


@strawberry.input
class UpdateChannelInput:
    code: str
    payment_required: bool | None = strawberry.field(
        default=None, description="Take orders only with a payment; unchanged when omitted.")
    sender_name: str | None = strawberry.field(
        default=None, description="Mails' sender display name; unchanged when omitted, "
                                  "cleared by \"\".")
    brand_color: str | None = strawberry.field(
        default=None, description="Mails' accent colour, #rrggbb; \"\" clears it.")
    locale: str | None = strawberry.field(
        default=None, description="Mails' language when an order names none (en, it); "
                                  "\"\" clears it.")


@strawberry.type
class UpdateChannelPayload:
    channel: Channel | None
    user_errors: list[UserError]


@strawberry.type
class SkuEdge:
    cursor: str
    node: Sku


@strawberry.type
class SkuConnection:
    total_count: int
    page_info: PageInfo
    edges: list[SkuEdge]


@strawberry.input
class LocationInput:
    code: str
    name: str
    type: LocationType
    address: AddressInput
    capabilities: list[Capability]
    channels: list[str]
    handling_classes: list[HandlingClass] | None = strawberry.field(
        default=None, description="Handling classes accepted; all when omitted.")
    time_zone: str = "Europe/Rome"
    cutoff_time: str = "15:00"
    processing_hours: int = 24
    daily_capacity: int | None = None
    cost_per_shipment: Decimal | None = None
    cost_per_kg: Decimal | None = None
    carbon_factor: float | None = strawberry.field(
        default=None, description="kg CO2e per tonne-km of line haul from here, 0-10; 0.1 (a "
                                  "full-size truck, GLEC Framework v3 order of magnitude) when "
                                  "omitted.")
    active: bool = True
    ack_minutes: int | None = strawberry.field(
        default=None, description="THIRD_PARTY only: minutes (1-10080) to acknowledge work "
        "offered to the location before it is re-sourced; none when omitted.")
    opening_hours: OpeningHoursInput | None = strawberry.field(
        default=None, description="Weekly hours and dated exceptions (holidays). Omitted or "
        "null: no hours, open around the clock (as every field here, an upsert replaces what "
        "was saved).")


@strawberry.input
class UpsertLocationsInput:
    locations: list[LocationInput]


@strawberry.type
class UpsertLocationsPayload:
    locations: list[Location]
    user_errors: list[UserError]


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency: str


@strawberry.input
class KitComponentInput:
    sku: str
    quantity: int


@strawberry.input
class SkuInput:
    sku: str
    name: str
    product_group: str
    handling: HandlingClass = catalog.HandlingClass.STANDARD
    weight_grams: int = 0
    prices: list[MoneyInput] = strawberry.field(default_factory=list)
    backorderable: bool = False
    preorderable: bool = False
    components: list[KitComponentInput] = strawberry.field(
        default_factory=list, description="Makes this SKU a kit of these components.")
    tax_class: TaxClass = TaxClass.STANDARD


@strawberry.input
class UpsertSkusInput:
    skus: list[SkuInput]


@strawberry.type
class UpsertSkusPayload:
    skus: list[Sku]
    user_errors: list[UserError]


def _location(i: int, x: LocationInput) -> catalog.Location:
    return catalog.new_location(
        code=x.code, name=x.name, type=x.type.value, address=x.address.to_domain(),
        capabilities=[c.value for c in x.capabilities], channels=x.channels,
        handling_classes=None if x.handling_classes is None else [
            h.value for h in x.handling_classes],
        time_zone=x.time_zone, cutoff_time=x.cutoff_time, processing_hours=x.processing_hours,
        daily_capacity=x.daily_capacity,
        cost_per_shipment=None if x.cost_per_shipment is None else str(x.cost_per_shipment),
        cost_per_kg=None if x.cost_per_kg is None else str(x.cost_per_kg),
        carbon_factor=x.carbon_factor, active=x.active, at=["locations", str(i)],
        ack_minutes=x.ack_minutes,
        opening_hours=None if x.opening_hours is None else x.opening_hours.to_domain(
            at=["locations", str(i), "openingHours"]))


def _sku(i: int, x: SkuInput) -> catalog.Sku:
    return catalog.new_sku(
        sku=x.sku, name=x.name, product_group=x.product_group, handling=x.handling.value,
        weight_grams=x.weight_grams, prices=[(str(p.amount), p.currency) for p in x.prices],
        backorderable=x.backorderable, preorderable=x.preorderable,
        components=[(c.sku, c.quantity) for c in x.components], at=["skus", str(i)],
        tax_class=x.tax_class.value)


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="Every location of the network.")
    async def locations(self, info: strawberry.Info[Context, None]) -> list[Location]:
        found = await info.context.deps.reader.locations()
        return [Location.from_domain(loc) for loc in found.values()]

    @strawberry.field(description="The catalog, by SKU code.")
    async def skus(self, info: strawberry.Info[Context, None], first: int | None = 20,
                   after: str | None = None,
                   product_group: str | None = None) -> SkuConnection:
        page = await info.context.deps.reader.sku_page(
            first=page_size(first), after=after, product_group=product_group)
        return SkuConnection(
            total_count=page.total_count,
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
            edges=[SkuEdge(cursor=c, node=Sku.from_domain(s))
                   for c, s in zip(page.cursors, page.items, strict=True)])

    @strawberry.field(description="Sales channels.")
    async def channels(self, info: strawberry.Info[Context, None]) -> list[Channel]:
        return [Channel.from_domain(c)
                for c in await info.context.deps.reader.channels()]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Change a channel's settings (admin).")
    async def update_channel(self, info: strawberry.Info[Context, None],
                             input: UpdateChannelInput) -> UpdateChannelPayload:
        ctx = info.context
        saved, errors = await attempt(lambda: ctx.app.catalog.update_channel(
            input.code, payment_required=input.payment_required, principal=ctx.principal,
            mail=catalog.ChannelMail(input.sender_name, input.brand_color, input.locale)))
        return UpdateChannelPayload(channel=Channel.from_domain(saved) if saved else None,
                                    user_errors=errors)

    @strawberry.mutation(description="Create or update locations (admin, integration).")
    async def upsert_locations(self, info: strawberry.Info[Context, None],
                               input: UpsertLocationsInput) -> UpsertLocationsPayload:
        ctx = info.context

        async def work():
            locations = [_location(i, x) for i, x in enumerate(input.locations)]
            return await ctx.app.catalog.upsert_locations(locations, principal=ctx.principal)

        saved, errors = await attempt(work)
        return UpsertLocationsPayload(
            locations=[Location.from_domain(loc) for loc in saved or []], user_errors=errors)

    @strawberry.mutation(description="Create or update SKUs and kits (admin, integration).")
    async def upsert_skus(self, info: strawberry.Info[Context, None],
                          input: UpsertSkusInput) -> UpsertSkusPayload:
        ctx = info.context

        async def work():
            skus = [_sku(i, x) for i, x in enumerate(input.skus)]
            return await ctx.app.catalog.upsert_skus(skus, principal=ctx.principal)

        saved, errors = await attempt(work)
        return UpsertSkusPayload(skus=[Sku.from_domain(s) for s in saved or []],
                                 user_errors=errors)
