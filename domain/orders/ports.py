"""What orders need stored, and how use cases read them outside a write transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.orders import FulfillmentStatus, Order


@dataclass(frozen=True, slots=True)
class OrderSearch:
    """Criteria of an order search; `fulfilled_from` keeps orders with work there."""

    customer_email: str | None = None
    statuses: tuple[str, ...] = ()
    channel: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    fulfilled_from: frozenset[str] | None = None


class OrderRepository(Protocol):
    async def next_number(self) -> str: ...
    async def add(self, order: Order) -> None: ...

    async def get(self, *, number: str | None = None,
                  fulfillment_id: str | None = None) -> Order | None:
        """The order (by number, or holding the fulfillment), locked for this transaction."""

    async def get_many(self, ids: list[str]) -> list[Order]: ...

    async def save(self, order: Order) -> None:
        """Write what changed since the order was loaded."""

    async def waiting_backorders(self, sku: str, location: str, *, units: int
                                 ) -> list[tuple[str, str]]:
        """(order id, line id) backordered against receipts of sku at location, first come
        first served, as many as wait for `units` in all."""


class OrderReader(Protocol):
    """Orders read without a lock, for decisions that are re-checked when writing."""

    async def order_by_id(self, order_id: str) -> Order | None: ...
    async def order_by_fulfillment(self, fulfillment_id: str) -> Order | None: ...
    async def order_by_number(self, number: str) -> Order | None: ...
    # a guest's proof (number and email), or a customer's own order, looked up in one read: a
    # wrong email and an unknown number do the same work, so no timing tells a real number
    # from an unknown one (access.lookup.order_named)
    async def order_for_guest(self, number: str, email: str) -> Order | None: ...
    async def fulfillments_at(self, location: str,
                              statuses: tuple[FulfillmentStatus, ...]) -> list[str]: ...
