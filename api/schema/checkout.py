"""Checkout: placeOrder, exactly once per idempotency key."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.prometheus import count_order
from api.schema.common import AddressInput, DeliveryMethod, ServiceLevel
from api.schema.orders import Order
from domain import orders


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


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Check out: validates, prices, sources and reserves "
                                     "stock atomically, exactly once per idempotency key.")
    async def place_order(self, info: strawberry.Info[Context, None],
                          input: PlaceOrderInput) -> PlaceOrderPayload:
        ctx = info.context
        order, errs = await attempt(lambda: ctx.app.checkout.place_order(
            _command(input), principal=ctx.principal,
            seen_locations=lambda found: ctx.loaders.location.prime_many(found, force=True)))
        count_order(ctx, [e.code for e in errs])
        return PlaceOrderPayload(order=Order.from_domain(order) if order else None,
                                 user_errors=errs)
