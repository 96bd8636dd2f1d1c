"""The service console's customer view: orders, lifetime figures, open problems."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.schema.common import Money, page_size
from api.schema.orders import OrderConnection
from api.schema.payment_types import OrderProblem
from domain.orders.ports import OrderSearch
from domain.service_desk import customers


@strawberry.type(description="A customer as the service console sees them (agents).")
class CustomerAccount:
    email: str
    name: str | None = strawberry.field(description="As on their latest order.")
    order_count: int
    cancelled_orders: int
    lifetime_value: list[Money] = strawberry.field(
        description="What their orders not cancelled were placed for, per currency.")
    open_problems: list[OrderProblem] = strawberry.field(
        description="On hold, failed deliveries, work a location rejected, late (not "
                    "delivered by the promised latest date), a payment capture that keeps "
                    "failing, an authorisation that lapsed before everything shipped; oldest "
                    "first.")

    @strawberry.field(description="Their orders, newest first.")
    async def orders(self, info: strawberry.Info[Context, None], first: int | None = 20,
                     after: str | None = None) -> OrderConnection:
        page = await info.context.deps.reader.order_page(
            OrderSearch(customer_email=self.email), first=page_size(first), after=after)
        return OrderConnection.from_page(page, after=after)

    @classmethod
    def from_domain(cls, a: customers.Account) -> CustomerAccount:
        return cls(email=a.email, name=a.name, order_count=a.orders,
                   cancelled_orders=a.cancelled,
                   lifetime_value=[Money.from_domain(m) for m in a.lifetime_value],
                   open_problems=[OrderProblem.from_domain(p) for p in a.problems])


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="A customer by email (agents); null when they never "
                                  "ordered.")
    async def customer(self, info: strawberry.Info[Context, None],
                       email: str) -> CustomerAccount | None:
        ctx = info.context
        found = await ctx.deps.reader.customer_account(email.strip().lower(),
                                                       now=ctx.deps.clock.now())
        return CustomerAccount.from_domain(found) if found else None
