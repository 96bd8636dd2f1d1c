"""Customer service on orders: cancel, hold, release, address, notes, tags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.common import AddressInput, OrderTag
from api.schema.orders import Order
from domain import orders


@strawberry.input
class CancelOrderInput:
    number: str
    reason: str = strawberry.field(description="e.g. CUSTOMER_REQUEST, FRAUD, OUT_OF_STOCK.")
    skus: list[str] | None = strawberry.field(
        default=None, description="Cancel only these lines (every unit not yet shipped); "
                                  "the whole order when omitted.")


@strawberry.input
class HoldOrderInput:
    number: str
    reason: str


@strawberry.input
class ReleaseOrderInput:
    number: str
    reason: str | None = None


@strawberry.input
class UpdateShippingAddressInput:
    number: str
    address: AddressInput


@strawberry.input
class AddOrderNoteInput:
    number: str
    text: str


@strawberry.input
class OrderTagsInput:
    number: str
    tags: list[OrderTag]


@strawberry.type(description="The order after the change.")
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]


async def _payload(info: strawberry.Info[Context, None],
                   use_case: Callable[[Context], Awaitable[orders.Order]]) -> OrderPayload:
    ctx = info.context
    order, errs = await attempt(lambda: use_case(ctx))
    return OrderPayload(order=Order.from_domain(order) if order else None, user_errors=errs)


@strawberry.type
class ServiceDeskMutation:
    @strawberry.mutation(description="Cancel an order or some of its lines before they ship; "
                                     "their reservations are released. Agents any time before "
                                     "shipment; customers their own, within minutes of "
                                     "ordering and before anything is picked.")
    async def cancel_order(self, info: strawberry.Info[Context, None],
                           input: CancelOrderInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.cancel(
            input.number, skus=input.skus, reason=input.reason, principal=ctx.principal))

    @strawberry.mutation(description="Stop all work on an order (payment, fraud, manual).")
    async def hold_order(self, info: strawberry.Info[Context, None],
                         input: HoldOrderInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.hold(
            input.number, reason=input.reason, principal=ctx.principal))

    @strawberry.mutation(description="Let work on a held order go on.")
    async def release_order(self, info: strawberry.Info[Context, None],
                            input: ReleaseOrderInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.release(
            input.number, reason=input.reason, principal=ctx.principal))

    @strawberry.mutation(description="Change where the parcels go, until one has shipped "
                                     "(same country: totals and taxes depend on it).")
    async def update_shipping_address(self, info: strawberry.Info[Context, None],
                                      input: UpdateShippingAddressInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.update_shipping_address(
            input.number, input.address.to_domain(), principal=ctx.principal))

    @strawberry.mutation(description="An internal note on the order's timeline.")
    async def add_order_note(self, info: strawberry.Info[Context, None],
                             input: AddOrderNoteInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.add_note(
            input.number, input.text, principal=ctx.principal))

    @strawberry.mutation(description="Add tags (VIP, GIFT, REPLACEMENT).")
    async def add_order_tags(self, info: strawberry.Info[Context, None],
                             input: OrderTagsInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.retag(
            input.number, add=frozenset(_tags(input)), remove=frozenset(),
            principal=ctx.principal))

    @strawberry.mutation(description="Remove tags.")
    async def remove_order_tags(self, info: strawberry.Info[Context, None],
                                input: OrderTagsInput) -> OrderPayload:
        return await _payload(info, lambda ctx: ctx.app.service_desk.retag(
            input.number, add=frozenset(), remove=frozenset(_tags(input)),
            principal=ctx.principal))


def _tags(x: OrderTagsInput) -> list[orders.OrderTag]:
    return [orders.OrderTag(t) for t in x.tags]
