"""The `payments` consumer: after a parcel is handed over or work is cancelled, move the money
the order is due (domain/payments/services.settle).

A durable outbox consumer (api/integration/runner.py): jobs are ordered per order, retried on
the consumer's backoff (PROMESSA_CONSUMER_BACKOFF) while the provider refuses or is down, and
parked after the last attempt — the order shows PAYMENT_CAPTURE_FAILED from the first refusal
until an agent's `retryPaymentCapture` (or the operator's `retryParkedEvents`) gets it
through. Every provider call carries a key derived from what it is about (`capture:<
fulfillment id>`, `void:<order id>`), so a job run twice — after a crash, or beside an agent's
retry — moves the money once.
"""

from __future__ import annotations

import asyncio
import logging

from api.integration.runner import Result
from domain.application import Application
from domain.integration import Backoff
from domain.kernel import errors
from domain.payments.services import CONSUMER
from persistence.consumers import Claimed, NewEvent

log = logging.getLogger("promessa.payments")

# events after which an order may be due a capture (handed over) or a release (cancelled)
TRIGGERS = frozenset({
    "FULFILLMENT_SHIPPED", "FULFILLMENT_DELIVERED", "FULFILLMENT_CANCELLED",
    "TRACKING_PICKED_UP", "TRACKING_IN_TRANSIT", "TRACKING_OUT_FOR_DELIVERY",
    "TRACKING_DELIVERED", "ORDER_CANCELLED", "LINES_CANCELLED"})
CONCURRENCY = 4


class PaymentHandler:
    name = CONSUMER

    def __init__(self, app: Application, *, backoff: Backoff) -> None:
        self.app, self.backoff = app, backoff

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def targets(self, events: list[NewEvent]) -> list[tuple[str, ...]]:
        return [("",) if e.type in TRIGGERS and isinstance(e.payload.get("order"), str)
                else () for e in events]

    async def handle(self, jobs: list[Claimed]) -> list[Result]:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(job: Claimed) -> Result:
            async with slots:
                return await self._settle(str(job.payload["order"]))

        return list(await asyncio.gather(*(one(j) for j in jobs)))

    async def _settle(self, number: str) -> Result:
        try:
            await self.app.payments.settle(number)
        except (errors.PaymentDeclined, errors.PaymentProviderUnavailable) as exc:
            return Result(False, error=f"{exc.code}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - one order's failure is its job's, not the batch's
            log.exception("payments: settling order %s failed", number)
            return Result(False, error=f"{type(exc).__name__}")
        return Result(True)
