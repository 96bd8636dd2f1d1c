"""Operations KPIs for agents and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Context
from domain.kernel import errors
from domain.service_desk import metrics


@strawberry.type(description="How operations went for the orders placed in a window. Rates "
                             "are between 0 and 1, null when there was nothing to measure.")
class OperationsMetrics:
    orders_placed: int = strawberry.field(description="Orders placed in the window.")
    fill_rate: float | None = strawberry.field(
        description="Units not backordered at placement / units ordered (backorders filled "
                    "later by a receipt count as filled).")
    split_rate: float | None = strawberry.field(
        description="Orders with more than one fulfillment (rejected work left out) / orders.")
    ship_from_store_share: float | None = strawberry.field(
        description="Shipped fulfillments that left a STORE / all shipped fulfillments.")
    on_time_delivery: float | None = strawberry.field(
        description="Delivered fulfillments delivered by their order's promised latest date "
                    "/ delivered fulfillments whose order had a promise.")
    average_hours_to_ship: float | None = strawberry.field(
        description="Mean hours from the order's placement to a fulfillment's shipment.")
    cancellation_rate: float | None = strawberry.field(
        description="Cancelled orders / orders.")
    backorders_open: int = strawberry.field(
        description="Order lines of these orders still waiting for backordered units "
                    "(cancelled lines left out).")

    @classmethod
    def from_domain(cls, m: metrics.OperationsMetrics) -> OperationsMetrics:
        return cls(orders_placed=m.orders_placed, fill_rate=m.fill_rate,
                   split_rate=m.split_rate, ship_from_store_share=m.ship_from_store_share,
                   on_time_delivery=m.on_time_delivery,
                   average_hours_to_ship=m.average_hours_to_ship,
                   cancellation_rate=m.cancellation_rate, backorders_open=m.backorders_open)


@strawberry.type
class OperationsQuery:
    @strawberry.field(description="KPIs over the orders placed from `from` (inclusive) to "
                                  "`to` (exclusive), in one channel or all (agents, admins).")
    async def operations_metrics(
            self, info: strawberry.Info[Context, None],
            from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime,
            channel: str | None = None) -> OperationsMetrics:
        ctx = info.context
        if from_.tzinfo is None or to.tzinfo is None:
            raise errors.InvalidInput("from and to need a time zone", field=["from"])
        if to <= from_:
            raise errors.InvalidInput("to must be after from", field=["to"])
        found = await ctx.deps.reader.operations_metrics(start=from_, end=to,
                                                         channel=channel or None)
        return OperationsMetrics.from_domain(found)
