"""The objects webhook and broker messages carry, as an integration sees them.

An order's events carry the order itself, rendered by running a fixed GraphQL document
through the schema as an `integration` principal: the same resolvers, view rules and masking
as an integration's own query, so a message never shows more (or other) than the API would.
It is the order as it is when the message is sent (the event's own facts stay beside it),
rendered once per order per batch whatever the number of its events and endpoints, and the
orders of a batch read together (the `order` field loads through a DataLoader by number).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from api.context import Context, Dependencies, make_loaders
from api.schema.root import build_schema
from domain.access import Principal, Role

log = logging.getLogger("promessa.webhooks")
RENDERS = 32  # orders rendered at once; their loads are batched (one read for all of them)
VIEWER = Principal(Role.INTEGRATION, subject="webhooks")
ORDER = """query WebhookOrder($n: String!) { order(number: $n) {
  id number status channel currency placedAt placedBy tags holdReason
  customer { email name phone }
  subtotal { amount currency } shipping { amount currency } tax { amount currency }
  total { amount currency }
  promisedDelivery { earliest latest }
  delivery { method serviceLevel pickupLocation { code }
             address { line1 line2 city postalCode region country } }
  lines { id sku quantity status unitPrice { amount currency } backordered cancelled }
  fulfillments { id status location { code } carrier trackingNumber serviceLevel reason
                 shippedAt deliveredAt lines { sku quantity } }
} }"""


class OrderViews:
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.schema = build_schema()

    async def orders(self, numbers: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """Each order as an integration sees it (None when it cannot be rendered)."""
        context = Context(principal=VIEWER, deps=self.deps, shared_loaders=make_loaders(self.deps))
        wanted = sorted(set(numbers))
        slots = asyncio.Semaphore(RENDERS)  # a few connections, not one per order of a batch

        async def render(number: str) -> Any:
            async with slots:
                return await self.schema.execute(ORDER, variable_values={"n": number},
                                                 context_value=context)

        results = await asyncio.gather(*(render(n) for n in wanted))
        out: dict[str, dict[str, Any] | None] = {}
        for number, result in zip(wanted, results, strict=True):
            if result.errors:
                log.warning("order %s not rendered for a webhook: %s", number,
                            result.errors[0].message)
            out[number] = (result.data or {}).get("order")
        return out
