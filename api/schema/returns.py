"""Returns: what may come back, and the way back — request, approve, receive, refund."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.guard import guest_lookup
from api.schema.common import Money
from api.schema.orders import Order
from api.schema.return_types import (
    Resolution,
    Return,
    ReturnCondition,
    ReturnMethod,
    ReturnShippingPayer,
)
from domain import access, returns
from domain.access import Role
from domain.kernel import errors
from domain.kernel.money import Money as DomainMoney
from domain.kernel.money import to_amount
from domain.returns import policy as return_policy
from domain.returns import requests as return_requests
from domain.returns import services as return_service
from domain.returns.services import ReturnView


@strawberry.type(description="May units of this order line come back: how many, until when, "
                             "and if not, why not.")
class ReturnableLine:
    line_id: strawberry.ID = strawberry.field(description="`OrderLine.id`.")
    sku: str
    quantity: int = strawberry.field(description="Units ordered (less cancelled ones).")
    delivered: int
    in_returns: int = strawberry.field(description="Units returned or in an open return.")
    returnable: int = strawberry.field(description="Units that may still come back.")
    returnable_until: datetime | None = strawberry.field(
        description="The end of the return window, in the customer's time zone.")
    reason: str | None = strawberry.field(
        description="Why none may come back: ORDER_NOT_DELIVERED, NOT_RETURNABLE, "
                    "RETURN_WINDOW_CLOSED or QUANTITY_EXCEEDS_RETURNABLE (all are back).")
    resolutions: list[Resolution]


@strawberry.type(description="What of an order may come back, and how.")
class ReturnEligibility:
    order_number: str
    lines: list[ReturnableLine]
    methods: list[ReturnMethod]
    return_shipping_paid_by: ReturnShippingPayer
    return_shipping_fee: Money = strawberry.field(
        description="Deducted from a refund when the customer ships the parcel back.")

    @classmethod
    def from_domain(cls, e: return_service.Eligibility) -> ReturnEligibility:
        p = e.policy
        return cls(
            order_number=e.order.number, methods=sorted(p.methods),
            return_shipping_paid_by=p.shipping_paid_by,
            return_shipping_fee=Money.from_domain(DomainMoney(
                p.fee(return_policy.ReturnMethod.SHIP_BACK, return_policy.Resolution.REFUND),
                e.order.currency)),
            lines=[ReturnableLine(line_id=strawberry.ID(x.line_id), sku=x.sku,
                                  quantity=x.quantity, delivered=x.delivered,
                                  in_returns=x.in_returns, returnable=x.returnable,
                                  returnable_until=x.until, reason=x.reason,
                                  resolutions=sorted(x.resolutions)) for x in e.lines])


@strawberry.input(description="Units of one order line to send back: name the line by "
                              "`lineId` or by `sku`.")
class ReturnLineInput:
    line_id: strawberry.ID | None = strawberry.field(default=None,
                                                     description="`OrderLine.id`.")
    sku: str | None = None
    quantity: int
    reason: str = strawberry.field(description="e.g. TOO_SMALL, DAMAGED, NOT_AS_DESCRIBED, "
                                               "CHANGED_MIND.")
    exchange_sku: str | None = strawberry.field(
        default=None, description="EXCHANGE: the item to send instead (same price); the "
                                  "same SKU when omitted.")


@strawberry.input
class RequestReturnInput:
    order_number: str
    email: str | None = strawberry.field(
        default=None, description="Guests: the order's email (as for trackOrder).")
    lines: list[ReturnLineInput]
    resolution: Resolution
    method: ReturnMethod


@strawberry.input(description="Names the return a step applies to.")
class ReturnActionInput:
    return_number: str


@strawberry.input
class RejectReturnInput:
    return_number: str
    reason: str


@strawberry.input(description="The condition of received units of one return line (by "
                              "`lineId`, the return line's id, or `sku`).")
class ReceiveReturnLineInput:
    line_id: strawberry.ID | None = None
    sku: str | None = None
    condition: ReturnCondition
    quantity: int | None = strawberry.field(
        default=None, description="Units in this condition; all of the line when omitted.")


@strawberry.input
class ReceiveReturnInput:
    return_number: str
    lines: list[ReceiveReturnLineInput]


@strawberry.input
class RefundReturnInput:
    return_number: str
    amount: Decimal | None = strawberry.field(
        default=None, description="Agents: another amount than the return's refund (never "
                                  "more than the order has left of what it paid).")


@strawberry.type(description="The return after the step, and its order.")
class ReturnPayload:
    return_: Return | None = strawberry.field(name="return")
    order: Order | None
    user_errors: list[UserError]


async def _payload(ctx: Context, work: Callable[[], Awaitable[ReturnView]]) -> ReturnPayload:
    done, errs = await attempt(work)
    if done is None:
        return ReturnPayload(return_=None, order=None, user_errors=errs)
    view = access.answer_view(ctx.principal, done.order)
    return ReturnPayload(return_=Return.from_domain(done.ret, view),
                         order=Order.from_domain(done.order), user_errors=[])


def _counts(ret: returns.Return, lines: list[ReceiveReturnLineInput]
            ) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for i, given in enumerate(lines):
        found = next((ln for ln in ret.lines if (given.line_id is not None and ln.id ==
                      str(given.line_id)) or (given.line_id is None and ln.sku == given.sku)),
                     None)
        if found is None:
            raise errors.NotFound(f"return {ret.number} has no such line",
                                  field=["lines", str(i)])
        units = found.quantity if given.quantity is None else given.quantity
        pair = counts.setdefault(found.id, [0, 0])
        pair[0 if given.condition is returns.Condition.RESTOCK else 1] += units
    return {k: (a, b) for k, (a, b) in counts.items()}


@strawberry.type
class ReturnQuery:
    @strawberry.field(description="Per line of a delivered order: how many units may come "
                                  "back, until when, or why not. Customers for their own "
                                  "orders, guests with the order's email, agents for anyone; "
                                  "null when absent or not yours.")
    async def return_eligibility(self, info: strawberry.Info[Context, None], order_number: str,
                                 email: str | None = None) -> ReturnEligibility | None:
        ctx = info.context
        if ctx.principal.role is Role.ANONYMOUS:  # number + email: limited like trackOrder
            await guest_lookup(ctx, order_number)
        found = await ctx.app.returns.eligibility(order_number, email=email,
                                                 principal=ctx.principal)
        return ReturnEligibility.from_domain(found) if found else None


@strawberry.type
class ReturnMutation:
    @strawberry.mutation(description="Open a return of delivered units (customer, guest with "
                                     "the order's email, or agent). Approved at once where "
                                     "the policy allows; an exchange reserves its replacement "
                                     "now and ships it when the return is received.")
    async def request_return(self, info: strawberry.Info[Context, None],
                             input: RequestReturnInput) -> ReturnPayload:
        ctx = info.context
        command = return_requests.RequestReturn(
            order_number=input.order_number, email=input.email,
            resolution=return_policy.Resolution(input.resolution),
            method=return_policy.ReturnMethod(input.method),
            lines=tuple(return_requests.ReturnLineRequest(
                quantity=ln.quantity, reason=ln.reason,
                line_id=str(ln.line_id) if ln.line_id is not None else None, sku=ln.sku,
                exchange_sku=ln.exchange_sku) for ln in input.lines))

        async def work() -> ReturnView:
            if ctx.principal.role is Role.ANONYMOUS:  # number + email: limited like trackOrder
                await guest_lookup(ctx, input.order_number)
            return await ctx.app.returns.request(command, principal=ctx.principal)

        return await _payload(ctx, work)

    @strawberry.mutation(description="An agent approves a requested return.")
    async def approve_return(self, info: strawberry.Info[Context, None],
                             input: ReturnActionInput) -> ReturnPayload:
        ctx = info.context
        return await _payload(ctx, lambda: ctx.app.returns.approve(input.return_number,
                                                              principal=ctx.principal))

    @strawberry.mutation(description="An agent closes a settled (refunded, exchanged or "
                                     "credited) return.")
    async def close_return(self, info: strawberry.Info[Context, None],
                           input: ReturnActionInput) -> ReturnPayload:
        ctx = info.context
        return await _payload(ctx, lambda: ctx.app.returns.close(input.return_number,
                                                            principal=ctx.principal))

    @strawberry.mutation(description="An agent refuses a return; an exchange's replacement "
                                     "is cancelled.")
    async def reject_return(self, info: strawberry.Info[Context, None],
                            input: RejectReturnInput) -> ReturnPayload:
        ctx = info.context
        return await _payload(ctx, lambda: ctx.app.returns.reject(
            input.return_number, reason=input.reason, principal=ctx.principal))

    @strawberry.mutation(description="The carrier has the parcel (integrations, agents).")
    async def mark_return_in_transit(self, info: strawberry.Info[Context, None],
                                     input: ReturnActionInput) -> ReturnPayload:
        ctx = info.context
        return await _payload(ctx, lambda: ctx.app.returns.mark_in_transit(
            input.return_number, principal=ctx.principal))

    @strawberry.mutation(description="The receiving location records the condition of every "
                                     "unit: RESTOCK puts it back on hand (ledger), WRITE_OFF "
                                     "does not. Store associates only at their location.")
    async def receive_return(self, info: strawberry.Info[Context, None],
                             input: ReceiveReturnInput) -> ReturnPayload:
        ctx = info.context

        async def work() -> ReturnView:
            ret = await ctx.deps.reader.return_by_number(input.return_number.strip())
            # authorised before anything about the return is checked: another store's return
            # answers as one that does not exist (not which lines it holds, nor where it goes)
            if ret is None or not access.acts_at(ctx.principal, ret.receiving_location):
                raise errors.NotFound(f"no return {input.return_number}",
                                      field=["returnNumber"])
            counts = _counts(ret, input.lines)
            return await ctx.app.returns.receive(input.return_number, counts,
                                                 principal=ctx.principal)

        return await _payload(ctx, work)

    @strawberry.mutation(description="Give the money back (agents): through the payment "
                                     "provider, recorded with its reference; never more than "
                                     "the order paid, across all its returns.")
    async def refund_return(self, info: strawberry.Info[Context, None],
                            input: RefundReturnInput) -> ReturnPayload:
        ctx = info.context

        async def work() -> ReturnView:
            amount = None if input.amount is None else to_amount(input.amount,
                                                                 field=["amount"])
            return await ctx.app.returns.refund(input.return_number, amount=amount,
                                                principal=ctx.principal)

        return await _payload(ctx, work)
