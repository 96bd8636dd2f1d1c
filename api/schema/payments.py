"""Payments: an agent asks again for a capture that failed, once the provider accepts it."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.orders import Order


@strawberry.input
class RetryPaymentCaptureInput:
    order_number: str


@strawberry.type
class RetryPaymentCapturePayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(description="Ask the provider again for the order's failed (or "
                                     "unfinished) payment movements: an unanswered one with "
                                     "its idempotency key, a refused one (which moved no "
                                     "money) with a new key derived from it; nothing is "
                                     "captured twice (agents).")
    async def retry_payment_capture(self, info: strawberry.Info[Context, None],
                                    input: RetryPaymentCaptureInput
                                    ) -> RetryPaymentCapturePayload:
        ctx = info.context
        order, errors = await attempt(lambda: ctx.app.payments.retry_capture(
            input.order_number, principal=ctx.principal))
        return RetryPaymentCapturePayload(order=Order.from_domain(order) if order else None,
                                          user_errors=errors)
