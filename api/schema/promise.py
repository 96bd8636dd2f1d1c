"""deliveryPromise: how and when a cart can arrive, per option, before the customer buys."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Context
from api.schema.catalog import Location
from api.schema.checkout import OrderLineInput
from api.schema.common import AddressInput, DeliveryMethod, Money, ServiceLevel
from domain import orders
from domain.checkout import delivery_promise as promise_service


@strawberry.input(description="A cart, where it goes and the channel it is bought on.")
class DeliveryPromiseInput:
    channel: str
    lines: list[OrderLineInput]
    destination: AddressInput
    currency: str | None = strawberry.field(default=None,
                                            description="Defaults to the channel's currency.")


@strawberry.type(description="Units of a line and when they are available to leave: now, or "
                             "when the incoming stock they wait for arrives.")
class PromiseLine:
    sku: str
    quantity: int
    available_on: datetime


@strawberry.type(description="One way the cart can arrive. Pass its id to placeOrder as "
                             "delivery.promiseOptionId to be sourced exactly so.")
class DeliveryOption:
    id: strawberry.ID = strawberry.field(description="Opaque; valid until expiresAt.")
    method: DeliveryMethod
    service_level: ServiceLevel | None
    pickup_location_code: strawberry.Private[str | None]
    shipments: int = strawberry.field(description="Parcels (or, for a pickup, fulfillments "
                                                  "including transfers to the store).")
    earliest_delivery: datetime = strawberry.field(
        description="Earliest arrival of the whole cart (pickup: ready to collect).")
    latest_delivery: datetime
    cost: Money = strawberry.field(description="What the customer pays for this delivery.")
    co2_grams: int = strawberry.field(description=(
        "Grams of CO2e (well-to-wheel) of the network's transport: per parcel, line haul by "
        "weight × distance × its location's carbon factor, plus a last-mile van drop (181 g); "
        "pickup from the store's own stock is 0, a transfer to it counts its line haul only (the "
        "customer's trip to the store is not included)."))
    lines: list[PromiseLine]
    expires_at: datetime

    @strawberry.field
    async def pickup_location(self, info: strawberry.Info[Context, None]) -> Location | None:
        if self.pickup_location_code is None:
            return None
        found = await info.context.loaders.location.load(self.pickup_location_code)
        return Location.from_domain(found) if found else None

    @classmethod
    def from_domain(cls, p: promise_service.PricedOption) -> DeliveryOption:
        o = p.option
        return cls(id=strawberry.ID(o.id), method=o.method, service_level=o.service_level,
                   pickup_location_code=o.pickup_location, shipments=o.shipments,
                   earliest_delivery=o.earliest, latest_delivery=o.latest,
                   cost=Money.from_domain(p.cost), co2_grams=o.co2_grams,
                   lines=[PromiseLine(sku=x.sku, quantity=x.quantity,
                                      available_on=x.available_on) for x in o.lines],
                   expires_at=o.expires_at)


@strawberry.type(description="A line no option can deliver.")
class UnavailableLine:
    sku: str
    quantity: int
    code: str = strawberry.field(description="INSUFFICIENT_STOCK or SOURCING_CONSTRAINTS.")


@strawberry.type(description="The delivery options for a cart, fastest first.")
class DeliveryPromise:
    options: list[DeliveryOption]
    unavailable: list[UnavailableLine]
    made_at: datetime


@strawberry.type
class PromiseQuery:
    @strawberry.field(description="Every way a cart can reach a destination — each ship service "
                                  "level and pickup at nearby stores — with dates, cost, CO2 and "
                                  "per-line availability. Anyone may ask; nothing is reserved.")
    async def delivery_promise(self, info: strawberry.Info[Context, None],
                               input: DeliveryPromiseInput) -> DeliveryPromise:
        ctx = info.context
        found = await ctx.app.checkout.delivery_promise(
            promise_service.PromiseQuery(
                channel=input.channel,
                lines=tuple(orders.LineRequest(x.sku, x.quantity) for x in input.lines),
                destination=input.destination.to_domain(), currency=input.currency),
            principal=ctx.principal)
        ranked = sorted(found.options, key=lambda p: (p.option.latest, p.option.earliest,
                                                      p.cost.amount, p.option.co2_grams))
        return DeliveryPromise(options=[DeliveryOption.from_domain(p) for p in ranked],
                               unavailable=[UnavailableLine(sku=u.sku, quantity=u.quantity,
                                                            code=u.code)
                                            for u in found.unavailable],
                               made_at=found.made_at)
