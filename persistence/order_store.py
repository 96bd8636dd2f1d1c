"""Order aggregates: loaded whole in a constant number of statements, written back as a diff.

The unit of work remembers what it loaded (`Loaded`); `save` writes only what changed since:
changed rows as one batched UPDATE per table, new rows as one INSERT, and timeline entries and
carrier scans appended after the ones that were loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col

from domain.orders import Fulfillment, Order
from persistence import mapping, payments
from persistence.tables import (
    FulfillmentLineRow,
    FulfillmentRow,
    IncomingRow,
    OrderLineRow,
    OrderRow,
    TimelineRow,
    TrackingEventRow,
    table,
)

ORDER_EDITABLE = ("status", "hold_reason", "tags", "service_level", "ship_line1", "ship_line2",
                  "ship_city", "ship_postal_code", "ship_country", "ship_region",
                  "ship_latitude", "ship_longitude", "promised_earliest", "promised_latest")
LINE_EDITABLE = ("status", "backordered", "cancelled", "incoming_id", "returned")
FULFILLMENT_EDITABLE = ("status", "service_level", "carrier", "tracking_number", "reason",
                        "shipped_at", "delivered_at")


async def load_orders(conn: AsyncConnection, where: sa.ColumnElement[bool], *,
                      lock: bool = False) -> list[Order]:
    """Whole order aggregates in seven statements, however many orders match.

    With `lock`, the order rows are locked (in id order) until the transaction ends, so two
    writers of one order take turns and the second sees what the first committed.
    """
    stmt = sa.select(OrderRow).where(where)
    if lock:
        stmt = stmt.order_by(col(OrderRow.id)).with_for_update()
    rows = (await conn.execute(stmt)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    lines = (await conn.execute(sa.select(OrderLineRow).where(
        col(OrderLineRow.order_id).in_(ids)).order_by(col(OrderLineRow.position)))).all()
    fulfillments = (await conn.execute(sa.select(FulfillmentRow).where(
        col(FulfillmentRow.order_id).in_(ids)).order_by(
        col(FulfillmentRow.created_at), col(FulfillmentRow.location),
        col(FulfillmentRow.id)))).all()
    work = await load_fulfillments(conn, fulfillments)
    timeline = (await conn.execute(sa.select(TimelineRow).where(
        col(TimelineRow.order_id).in_(ids)).order_by(col(TimelineRow.id)))).all()
    # per order: line rows, fulfillments, timeline rows
    by_order: dict[str, tuple[list[Any], list[Fulfillment], list[Any]]] = {
        i: ([], [], []) for i in ids}
    for ln in lines:
        by_order[ln.order_id][0].append(ln)
    for f in fulfillments:
        by_order[f.order_id][1].append(work[f.id])
    for t in timeline:
        by_order[t.order_id][2].append(t)
    paid = await payments.load(conn, ids)
    found = [mapping.order_from_rows(r, *by_order[r.id]) for r in rows]
    for order in found:
        order.payment = paid.get(order.id)
    return found


async def load_fulfillments(conn: AsyncConnection, rows: Sequence[Any]
                            ) -> dict[str, Fulfillment]:
    """Fulfillment rows completed with their lines and carrier scans: two statements."""
    ids = [f.id for f in rows]
    if not ids:
        return {}
    f_lines = (await conn.execute(sa.select(FulfillmentLineRow).where(
        col(FulfillmentLineRow.fulfillment_id).in_(ids)).order_by(
        col(FulfillmentLineRow.id)))).all()
    scans = (await conn.execute(sa.select(TrackingEventRow).where(
        col(TrackingEventRow.fulfillment_id).in_(ids)).order_by(
        col(TrackingEventRow.at), col(TrackingEventRow.id)))).all()
    line_map: dict[str, list[Any]] = {}
    for fl in f_lines:
        line_map.setdefault(fl.fulfillment_id, []).append(fl)
    scan_map: dict[str, list[Any]] = {}
    for sc in scans:
        scan_map.setdefault(sc.fulfillment_id, []).append(sc)
    return {f.id: mapping.fulfillment_from_rows(f, line_map.get(f.id, []),
                                                scan_map.get(f.id, [])) for f in rows}


@dataclass(frozen=True, slots=True)
class Loaded:
    """An order as it was read, to tell what a save must write."""

    order: dict[str, Any]
    lines: dict[str, dict[str, Any]]
    fulfillments: dict[str, dict[str, Any]]
    fulfillment_lines: frozenset[tuple[str, str, str]]
    timeline: int
    scans: dict[str, int]
    payment: tuple[Any, dict[str, dict[str, Any]]]


def _pick(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: values[k] for k in keys}


def _fulfillment_state(order: Order, f: Fulfillment) -> dict[str, Any]:
    return _pick(mapping.fulfillment_values(order.id, f, None), FULFILLMENT_EDITABLE)


def remember(order: Order) -> Loaded:
    return Loaded(
        order=_pick(mapping.order_values(order), ORDER_EDITABLE),
        lines={ln.id: _pick(mapping.line_values(order.id, 0, ln), LINE_EDITABLE)
               for ln in order.lines},
        fulfillments={f.id: _fulfillment_state(order, f) for f in order.fulfillments},
        fulfillment_lines=frozenset((f.id, fl.order_line_id, fl.sku)
                                    for f in order.fulfillments for fl in f.lines),
        timeline=len(order.timeline),
        scans={f.id: len(f.tracking) for f in order.fulfillments},
        payment=payments.state(order))


# INSERTs built once (a statement object keeps its cache key: no rebuilding, no rehashing)
INSERT: dict[type[SQLModel], sa.Insert] = {row: sa.insert(table(row)) for row in (
    OrderRow, OrderLineRow, FulfillmentRow, FulfillmentLineRow, TimelineRow, TrackingEventRow)}


async def insert_order(conn: AsyncConnection, order: Order) -> None:
    """A new order with everything it has (placement)."""
    await conn.execute(INSERT[OrderRow], [mapping.order_values(order)])
    await conn.execute(INSERT[OrderLineRow], [
        mapping.line_values(order.id, i, ln) for i, ln in enumerate(order.lines)])
    await _insert_work(conn, order, order.fulfillments, now=order.placed_at)
    await _insert(conn, TimelineRow, [mapping.timeline_values(order.id, t)
                                      for t in order.timeline])
    await payments.insert(conn, order)


async def _insert_work(conn: AsyncConnection, order: Order, fulfillments: list[Fulfillment],
                       *, now: datetime) -> None:
    await _insert(conn, FulfillmentRow, [mapping.fulfillment_values(order.id, f, now)
                                         for f in fulfillments])
    await _insert(conn, FulfillmentLineRow, [mapping.fulfillment_line_values(f.id, fl)
                                             for f in fulfillments for fl in f.lines])


async def _insert(conn: AsyncConnection, row_type: type[SQLModel],
                  rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(INSERT[row_type] if row_type in INSERT
                           else sa.insert(table(row_type)), rows)


async def save_order(conn: AsyncConnection, order: Order, loaded: Loaded, *,
                     now: datetime) -> None:
    """Write what changed in `order` since it was `loaded`."""
    await conn.execute(sa.update(table(OrderRow)).where(col(OrderRow.id) == order.id).values(
        **_pick(mapping.order_values(order), ORDER_EDITABLE), updated_at=now))
    lines = [mapping.line_values(order.id, 0, ln) for ln in order.lines]
    await _update(conn, OrderLineRow, [v for v in lines
                                       if _pick(v, LINE_EDITABLE) != loaded.lines[v["id"]]],
                  LINE_EDITABLE)
    new = [f for f in order.fulfillments if f.id not in loaded.fulfillments]
    await _insert_work(conn, order, new, now=now)
    changed = [mapping.fulfillment_values(order.id, f, now) for f in order.fulfillments
               if f.id in loaded.fulfillments
               and _fulfillment_state(order, f) != loaded.fulfillments[f.id]]
    await _update(conn, FulfillmentRow, changed, (*FULFILLMENT_EDITABLE, "updated_at"))
    await _save_fulfillment_lines(conn, order, loaded)
    await _insert(conn, TimelineRow, [mapping.timeline_values(order.id, t)
                                      for t in order.timeline[loaded.timeline:]])
    await _insert(conn, TrackingEventRow, [
        mapping.tracking_values(f.id, s) for f in order.fulfillments
        for s in f.tracking[loaded.scans.get(f.id, 0):]])
    await payments.save(conn, order, loaded.payment)


async def _save_fulfillment_lines(conn: AsyncConnection, order: Order, loaded: Loaded) -> None:
    """Rows of lines taken out of a fulfillment are deleted (the timeline keeps the story)."""
    kept = {(f.id, fl.order_line_id, fl.sku) for f in order.fulfillments for fl in f.lines}
    gone = sorted(loaded.fulfillment_lines - kept)
    if gone:
        c = table(FulfillmentLineRow).c
        await conn.execute(sa.delete(table(FulfillmentLineRow)).where(
            c.fulfillment_id == sa.bindparam("k_f"), c.order_line_id == sa.bindparam("k_l"),
            c.sku == sa.bindparam("k_s")), [{"k_f": f, "k_l": ln, "k_s": s}
                                             for f, ln, s in gone])
    await _insert(conn, FulfillmentLineRow, [
        mapping.fulfillment_line_values(f.id, fl) for f in order.fulfillments
        if f.id in loaded.fulfillments for fl in f.lines
        if (f.id, fl.order_line_id, fl.sku) not in loaded.fulfillment_lines])


async def _update(conn: AsyncConnection, row_type: type[SQLModel], rows: list[dict[str, Any]],
                  columns: tuple[str, ...]) -> None:
    """One batched UPDATE by id of `columns` for each row."""
    if not rows:
        return
    t = table(row_type)
    await conn.execute(
        sa.update(t).where(t.c.id == sa.bindparam("k_id"))
        .values({c: sa.bindparam(f"k_{c}") for c in columns}),
        [{"k_id": r["id"], **{f"k_{c}": r[c] for c in columns}} for r in rows])


def waiting_backorders(sku: str, location: str) -> sa.Select[str, str, int]:
    """Order ids and lines with units backordered against receipts of `sku` at `location`,
    first come first served."""
    return (sa.select(col(OrderLineRow.order_id), col(OrderLineRow.id),
                      col(OrderLineRow.backordered))
            .join(OrderRow, col(OrderRow.id) == col(OrderLineRow.order_id))
            .join(IncomingRow, col(IncomingRow.id) == col(OrderLineRow.incoming_id))
            .where(col(OrderLineRow.backordered) > 0, col(IncomingRow.sku) == sku,
                   col(IncomingRow.location) == location)
            # numbers are handed out in placement order: they break ties of the clock
            .order_by(col(OrderRow.placed_at), sa.func.length(col(OrderRow.number)),
                      col(OrderRow.number)))


def unacknowledged_work(created_before: Mapping[str, datetime], *, limit: int
                        ) -> sa.Select[str, str, str, datetime]:
    """ASSIGNED work at each location made before its time (a range of the index
    ix_fulfillments_queue per location), on orders not on hold and not released from a hold
    since that time; oldest first."""
    f, o, t = table(FulfillmentRow).c, table(OrderRow).c, table(TimelineRow).c

    def released_since(before: datetime) -> sa.Exists:
        return sa.exists().where(t.order_id == f.order_id, t.type == "ORDER_RELEASED",
                                 t.at >= before)

    due = [sa.and_(f.location == code, f.status == "ASSIGNED", f.created_at < before,
                   ~released_since(before))
           for code, before in sorted(created_before.items())]
    return (sa.select(f.id, f.order_id, f.location, f.created_at)
            .join(table(OrderRow), o.id == f.order_id)
            .where(sa.or_(*due), o.hold_reason.is_(None))
            .order_by(f.created_at, f.id).limit(limit))
