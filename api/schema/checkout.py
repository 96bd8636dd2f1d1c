"""Checkout: placeOrder, exactly once per idempotency key, and placeOrders for the feeds of
integrations (marketplaces, ERPs, call-centre software): many orders in one request, each
placed as placeOrder places it, on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import strawberry

from api.context import Context
from api.errors import UserError, attempt, attempt_item
from api.prometheus import count_order
from api.schema.common import AddressInput, DeliveryMethod, ServiceLevel
from api.schema.orders import Order
from domain import orders


@strawberry.input
class CustomerInput:
    email: str
    name: str | None = None
    phone: str | None = None
    locale: str | None = strawberry.field(
        default=None, description="The language to write to them in: `it`, `en-GB`.")


@strawberry.input(description="Money the customer authorised with a payment provider before "
                              "ordering; checked with the provider before the order is taken.")
class PaymentInput:
    provider: str = strawberry.field(description="`stripe`, `offline` (cash on delivery, pay "
                                                 "at the counter) or `test`.")
    reference: str = strawberry.field(description="The provider's id of the authorisation "
                                                  "(a Stripe PaymentIntent with manual "
                                                  "capture: `pi_…`).")
    amount: Decimal | None = strawberry.field(
        default=None, description="What was authorised, when known (at least the order's "
                                  "total).")


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
    payment: PaymentInput | None = strawberry.field(
        default=None, description="How it is paid; without it the order needs no payment "
                                  "(NOT_REQUIRED), unless its channel requires one "
                                  "(PAYMENT_REQUIRED).")


@strawberry.type
class PlaceOrderPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.input(description="Orders from one feed, placed one after the other in this "
                              "order, each in its own transaction.")
class PlaceOrdersInput:
    orders: list[PlaceOrderInput] = strawberry.field(
        description="At most 500 (INPUT_LIST_TOO_LONG), each exactly as placeOrder takes it. "
                    "A key sent twice answers the same order twice (or "
                    "IDEMPOTENCY_KEY_MISMATCH when the inputs differ), as two placeOrder "
                    "calls would.")


@strawberry.type(description="What became of one order of a batch.")
class PlaceOrderResult:
    idempotency_key: str = strawberry.field(description="The order's key, as it was sent.")
    order: Order | None = strawberry.field(
        description="The order placed, or placed earlier with this key; null when refused.")
    user_errors: list[UserError] = strawberry.field(
        description="Why this order was refused; paths start inside its own input "
                    "(['lines', '0', 'sku']), as placeOrder gives them.")


@strawberry.type
class PlaceOrdersPayload:
    results: list[PlaceOrderResult] = strawberry.field(
        description="One per order sent, in the same order: a refused order does not undo "
                    "the others.")
    user_errors: list[UserError] = strawberry.field(
        description="Refusals of the whole batch (FORBIDDEN, INVALID_INPUT): then no order "
                    "was placed and results is empty.")


def _command(x: PlaceOrderInput) -> orders.PlaceOrder:
    d = x.delivery
    return orders.PlaceOrder(
        idempotency_key=x.idempotency_key, channel=x.channel,
        customer=orders.Customer(x.customer.email, x.customer.name, x.customer.phone,
                                 x.customer.locale),
        lines=tuple(orders.LineRequest(ln.sku, ln.quantity) for ln in x.lines),
        delivery=orders.Delivery(d.method, d.service_level,
                                 d.address.to_domain() if d.address else None,
                                 d.pickup_location, d.promise_option_id),
        currency=x.currency,
        payment=orders.PaymentRequest(x.payment.provider, x.payment.reference,
                                      x.payment.amount) if x.payment else None)


def _placing(ctx: Context, x: PlaceOrderInput) -> Callable[[], Awaitable[orders.Order]]:
    """The use case placing `x` for the caller, to run under `attempt`."""
    return lambda: ctx.app.checkout.place_order(
        _command(x), principal=ctx.principal,
        seen_locations=lambda found: ctx.loaders.location.prime_many(found, force=True))


async def _place_item(ctx: Context, x: PlaceOrderInput) -> PlaceOrderResult:
    """One order of a batch, committed or refused before the next one starts."""
    order, errs = await attempt_item(_placing(ctx, x))
    count_order(ctx, [e.code for e in errs])
    return PlaceOrderResult(idempotency_key=x.idempotency_key,
                            order=Order.from_domain(order) if order else None,
                            user_errors=errs)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Check out: validates, prices, sources and reserves "
                                     "stock atomically, exactly once per idempotency key.")
    async def place_order(self, info: strawberry.Info[Context, None],
                          input: PlaceOrderInput) -> PlaceOrderPayload:
        ctx = info.context
        order, errs = await attempt(_placing(ctx, input))
        count_order(ctx, [e.code for e in errs])
        return PlaceOrderPayload(order=Order.from_domain(order) if order else None,
                                 user_errors=errs)

    @strawberry.mutation(description="Place many orders (integrations, back office): each as "
                                     "placeOrder would, in input order, one transaction each; "
                                     "sending the batch again places nothing new.")
    async def place_orders(self, info: strawberry.Info[Context, None],
                           input: PlaceOrdersInput) -> PlaceOrdersPayload:
        # one at a time, in input order: orders of a feed compete for the same stock, and
        # the first sent should be the first served
        results = [await _place_item(info.context, x) for x in input.orders]
        return PlaceOrdersPayload(results=results, user_errors=[])
