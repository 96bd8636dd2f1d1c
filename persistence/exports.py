"""Orders for the data warehouse, read in keyset-paginated batches (never all in memory).

Each batch is one short read transaction: orders placed at or after `since`, in (placed_at,
id) order, then their lines in one more statement. A long export therefore holds no
transaction open and no snapshot back from vacuum; an order placed while it runs is either
in it (if it sorts after the batch being read) or in the next export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from persistence.db import Database
from persistence.mapping import from_minor
from persistence.tables import OrderLineRow, OrderRow, table

ORD, LN = table(OrderRow).c, table(OrderLineRow).c
ORDER_COLUMNS = (ORD.id, ORD.number, ORD.placed_at, ORD.channel, ORD.status, ORD.currency,
                 ORD.subtotal_minor, ORD.shipping_minor, ORD.tax_minor, ORD.total_minor,
                 ORD.delivery_method,
                 ORD.service_level, ORD.ship_country, ORD.pickup_location, ORD.customer_email,
                 ORD.tags, ORD.updated_at)


async def orders_since(db: Database, since: datetime, *, until: datetime | None = None,
                       batch: int = 500) -> AsyncIterator[list[dict[str, Any]]]:
    """Batches of orders placed in [since, until), each with its `lines`."""
    after: tuple[datetime, str] | None = None
    while True:
        where = [ORD.placed_at >= since]
        if until is not None:
            where.append(ORD.placed_at < until)
        if after is not None:
            where.append(sa.or_(ORD.placed_at > after[0],
                                sa.and_(ORD.placed_at == after[0], ORD.id > after[1])))
        async with db.reader.begin() as conn:
            orders = (await conn.execute(sa.select(*ORDER_COLUMNS).where(*where).order_by(
                ORD.placed_at, ORD.id).limit(batch))).all()
            if not orders:
                return
            lines = (await conn.execute(sa.select(
                LN.order_id, LN.position, LN.sku, LN.quantity, LN.unit_price_minor, LN.status,
                LN.backordered, LN.cancelled, LN.returned)
                .where(LN.order_id.in_([o.id for o in orders]))
                .order_by(LN.order_id, LN.position))).all()
        by_order: dict[str, list[dict[str, Any]]] = {}
        for ln in lines:
            by_order.setdefault(ln.order_id, []).append(
                {"sku": ln.sku, "quantity": ln.quantity,
                 "unitPrice": str(from_minor(ln.unit_price_minor)), "status": ln.status,
                 "backordered": ln.backordered, "cancelled": ln.cancelled,
                 "returned": ln.returned})
        yield [_order(o, by_order.get(o.id, [])) for o in orders]
        last = orders[-1]
        after = (last.placed_at, last.id)
        if len(orders) < batch:
            return


def _order(o: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"number": o.number, "placedAt": o.placed_at.isoformat(), "channel": o.channel,
            "status": o.status, "currency": o.currency,
            "subtotal": str(from_minor(o.subtotal_minor)),
            "shipping": str(from_minor(o.shipping_minor)), "tax": str(from_minor(o.tax_minor)),
            "total": str(from_minor(o.total_minor)), "deliveryMethod": o.delivery_method,
            "serviceLevel": o.service_level, "shipCountry": o.ship_country,
            "pickupLocation": o.pickup_location, "customerEmail": o.customer_email,
            "tags": [t for t in (o.tags or "").split(",") if t],
            "updatedAt": o.updated_at.isoformat(), "lines": lines}
