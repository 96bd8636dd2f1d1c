"""The operations KPIs' counts: four aggregate statements, whatever the number of orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.catalog import LocationType
from domain.service_desk.metrics import MetricCounts
from persistence.tables import FulfillmentRow, LocationRow, OrderLineRow, OrderRow, table

ORD, LN, F = table(OrderRow).c, table(OrderLineRow).c, table(FulfillmentRow).c
LOC = table(LocationRow).c


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _seconds(dialect: str, start: sa.ColumnElement[datetime], end: sa.ColumnElement[datetime]
             ) -> sa.ColumnElement[Any]:  # whole seconds on SQLite, numeric on PostgreSQL
    if dialect == "sqlite":
        # whole seconds: julianday's floating point would turn 3 h into 2.99999999 h
        return (sa.cast(sa.func.strftime("%s", end), sa.Integer)
                - sa.cast(sa.func.strftime("%s", start), sa.Integer))
    return sa.extract("epoch", end - start)


async def operations_counts(conn: AsyncConnection, *, start: datetime, end: datetime,
                            channel: str | None) -> MetricCounts:
    """Over the orders placed in [start, end) (in `channel` when given)."""
    placed = [ORD.placed_at >= start, ORD.placed_at < end]
    if channel:
        placed.append(ORD.channel == channel)
    orders, cancelled = (await conn.execute(sa.select(
        sa.func.count(), _count_if(ORD.status == "CANCELLED")).where(*placed))).one()
    ordered, backordered, open_lines = (await conn.execute(sa.select(
        sa.func.coalesce(sa.func.sum(LN.quantity), 0),
        sa.func.coalesce(sa.func.sum(LN.backordered), 0),
        _count_if(sa.and_(LN.backordered > 0, LN.status != "CANCELLED")))
        .select_from(table(OrderLineRow).join(table(OrderRow), LN.order_id == ORD.id))
        .where(*placed))).one()
    split = sa.select(F.order_id).select_from(
        table(FulfillmentRow).join(table(OrderRow), F.order_id == ORD.id)).where(
        *placed, F.status != "REJECTED").group_by(F.order_id).having(sa.func.count() > 1)
    splits = (await conn.execute(sa.select(sa.func.count()).select_from(
        split.subquery()))).scalar_one()
    shipped = F.shipped_at.is_not(None)
    promised = sa.and_(F.delivered_at.is_not(None), ORD.promised_latest.is_not(None))
    row = (await conn.execute(sa.select(
        _count_if(shipped), _count_if(sa.and_(shipped, LOC.type == LocationType.STORE.value)),
        sa.func.coalesce(sa.func.sum(sa.case(
            (shipped, _seconds(conn.dialect.name, ORD.placed_at, F.shipped_at)), else_=0.0)), 0.0),
        _count_if(promised), _count_if(sa.and_(promised, F.delivered_at <= ORD.promised_latest)))
        .select_from(table(FulfillmentRow).join(table(OrderRow), F.order_id == ORD.id)
                     .join(table(LocationRow), F.location == LOC.code))
        .where(*placed))).one()
    return MetricCounts(
        orders=orders, cancelled=int(cancelled), units_ordered=int(ordered),
        units_allocated=int(ordered) - int(backordered), split_orders=splits,
        shipped=int(row[0]), shipped_from_store=int(row[1]),
        ship_hours_total=float(row[2]) / 3600.0, delivered_with_promise=int(row[3]),
        delivered_on_time=int(row[4]), backorders_open=int(open_lines))
