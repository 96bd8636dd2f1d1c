"""The order aggregate's tables, through order_store: load locked, insert, save changes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.orders import Order
from persistence import order_store
from persistence.tables import (
    CounterRow,
    FulfillmentRow,
    OrderRow,
    table,
)

NEXT_ORDER_NUMBER = sa.text("SELECT nextval('order_number_seq')")


class SqlOrderRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now
        self._loaded: dict[str, order_store.Loaded] = {}

    async def next_number(self) -> str:
        if self.conn.dialect.name == "postgresql":
            value = (await self.conn.execute(NEXT_ORDER_NUMBER)).scalar_one()
        else:
            c = table(CounterRow).c
            value = (await self.conn.execute(
                sa.update(table(CounterRow)).where(c.name == "order_number")
                .values(value=c.value + 1).returning(c.value))).scalar_one()
        return f"PR-{value:06d}"

    async def add(self, order: Order) -> None:
        await order_store.insert_order(self.conn, order)

    async def get(self, *, number: str | None = None,
                  fulfillment_id: str | None = None) -> Order | None:
        """An order, locked until the transaction ends, by number or by one of its
        fulfillments."""
        if number is not None:
            where = col(OrderRow.number) == number
        else:
            where = col(OrderRow.id) == sa.select(col(FulfillmentRow.order_id)).where(
                col(FulfillmentRow.id) == fulfillment_id).scalar_subquery()
        found = await self._load(where)
        return found[0] if found else None

    async def get_many(self, ids: list[str]) -> list[Order]:
        """Orders by id, locked in id order."""
        return await self._load(col(OrderRow.id).in_(sorted(set(ids)))) if ids else []

    async def _load(self, where: sa.ColumnElement[bool]) -> list[Order]:
        found = await order_store.load_orders(self.conn, where, lock=True)
        for order in found:
            self._loaded[order.id] = order_store.remember(order)
        return found

    async def save(self, order: Order) -> None:
        """Write what changed since `get`; the order is remembered as saved."""
        await order_store.save_order(self.conn, order, self._loaded[order.id], now=self.now)
        self._loaded[order.id] = order_store.remember(order)

    async def waiting_backorders(self, sku: str, location: str, *, units: int
                                 ) -> list[tuple[str, str]]:
        """The first (order id, line id) waiting, until they wait for `units` in all."""
        result = await self.conn.execute(order_store.waiting_backorders(sku, location))
        waiting, total = [], 0
        for row in result:
            if total >= units:
                break
            waiting.append((row.order_id, row.id))
            total += row.backordered
        return waiting
