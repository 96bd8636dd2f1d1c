"""The service console's customer view: orders, lifetime figures, open problems."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from api.context import Context
from api.schema.common import Money, page_size
from api.schema.orders import OrderConnection
from domain.orders.ports import OrderSearch
from domain.service_desk import customers

ProblemKind: TypeAlias = customers.ProblemKind
strawberry.enum(ProblemKind, description="What on an order needs an agent.")


@strawberry.type(description="Something on a customer's order that needs an agent.")
class OrderProblem:
    order_number: str
    kind: ProblemKind
    since: datetime
    detail: str


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
                    "delivered by the promised latest date); oldest first.")

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
                   open_problems=[OrderProblem(order_number=p.order_number, kind=p.kind,
                                               since=p.since, detail=p.detail)
                                  for p in a.problems])


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
