"""Read queries: no write lock, a constant number of statements per call."""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.catalog import Channel, Location, Sku
from domain.documents.issuing import Issued
from domain.fulfillment.ports import OfferedWork
from domain.inventory import Incoming, InventoryLevel
from domain.kernel import errors
from domain.kernel.money import Money
from domain.kernel.ports import IdempotencyRecord, Page
from domain.orders import Fulfillment, Order
from domain.orders.ports import OrderSearch
from domain.returns import Return
from domain.returns.status import ReturnStatus
from domain.service_desk import customers, metrics
from domain.sourcing.ports import SourcingSnapshot
from persistence import documents, mapping, order_store, payments
from persistence.catalog import (
    IN_CHANNEL,
    LOCATIONS_BY_CODE,
    LOCATIONS_IN_CHANNEL,
    load_locations,
    load_skus,
)
from persistence.db import Database
from persistence.metrics import operations_counts
from persistence.order_store import load_fulfillments, load_orders
from persistence.returns import completable_orders, load_returns, return_by_number
from persistence.sourcing import SourcingReads, sourcing_state
from persistence.tables import (
    ChannelRow,
    FulfillmentRow,
    IdempotencyRow,
    IncomingRow,
    InventoryLevelRow,
    KitComponentRow,
    OrderRow,
    SkuRow,
    table,
)

L = table(InventoryLevelRow).c
_CHANNEL, _KIT = table(ChannelRow), table(KitComponentRow).c
_IDEMPOTENCY, _INCOMING = table(IdempotencyRow), table(IncomingRow)
# The hot reads, built once (see persistence/catalog.py).
CHANNEL_BY_CODE = sa.select(_CHANNEL).where(_CHANNEL.c.code == sa.bindparam("channel"))
IDEMPOTENCY_BY_KEY = sa.select(_IDEMPOTENCY).where(_IDEMPOTENCY.c.key == sa.bindparam("key"))
KIT_PARTS = sa.select(_KIT.component).where(_KIT.kit.in_(sa.bindparam("skus", expanding=True)))
LEVELS_IN_CHANNEL = sa.select(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock).where(
    L.sku.in_(sa.bindparam("stocked", expanding=True)), L.location.in_(IN_CHANNEL))
LEVELS_IN_CHANNEL_ORDERED = LEVELS_IN_CHANNEL.order_by(L.sku, L.location)
_OPEN = [_INCOMING.c.sku.in_(sa.bindparam("skus", expanding=True)),
         _INCOMING.c.received_at.is_(None)]
OPEN_INCOMING = sa.select(_INCOMING).where(*_OPEN).order_by(
    _INCOMING.c.expected_at, _INCOMING.c.id)
UNALLOCATED_INCOMING = sa.select(_INCOMING).where(
    *_OPEN, _INCOMING.c.quantity > _INCOMING.c.allocated).order_by(
    _INCOMING.c.expected_at, _INCOMING.c.id)


def encode_cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode()


def decode_cursor(cursor: str) -> list[str]:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidInput("malformed cursor", field=["after"]) from None
    if "\x00" in decoded:  # PostgreSQL refuses NUL in text
        raise errors.InvalidInput("malformed cursor", field=["after"])
    return decoded.split("|")


class SqlReader(SourcingReads):
    """Every read the API and the services make, each in its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.db.reader.begin()

    # --- for placing orders -------------------------------------------------------------------
    async def sourcing_snapshot(self, *, channel: str, skus: list[str],
                                now: datetime | None = None,
                                idempotency_key: str | None = None) -> SourcingSnapshot:
        """With `idempotency_key`, the key's record is read first, in the same transaction;
        when it exists the rest is not read (the snapshot only carries the record)."""
        async with self._connect() as conn:
            if idempotency_key is not None:
                record = await _idempotency(conn, idempotency_key)
                if record is not None:
                    return SourcingSnapshot(channel=None, skus={}, locations={}, levels={},
                                            incoming={}, idempotency=record)
            row = (await conn.execute(CHANNEL_BY_CODE, {"channel": channel})).first()
            catalog, locations, levels, incoming = await _channel_stock(
                conn, channel, skus, levels_statement=LEVELS_IN_CHANNEL, only_unallocated=True)
            policy, downtime, load = await sourcing_state(conn, channel, locations, now)
        return SourcingSnapshot(
            channel=mapping.channel_from_row(row) if row else None, skus=catalog,
            locations=locations,
            levels={(r.sku, r.location): InventoryLevel(r.sku, r.location, r.on_hand, r.reserved,
                                                        r.safety_stock) for r in levels},
            incoming=incoming, policy=policy, downtime=downtime, load=load)

    async def idempotency(self, key: str) -> IdempotencyRecord | None:
        async with self._connect() as conn:
            return await _idempotency(conn, key)

    async def order_by_id(self, order_id: str) -> Order | None:
        found = await self.orders_where(col(OrderRow.id) == order_id)
        return found[0] if found else None

    # --- catalog ------------------------------------------------------------------------------
    async def channels(self) -> list[Channel]:
        async with self._connect() as conn:
            rows = (await conn.execute(sa.select(ChannelRow).order_by(col(ChannelRow.code)))).all()
        return [mapping.channel_from_row(r) for r in rows]

    async def channel(self, code: str) -> Channel | None:
        async with self._connect() as conn:
            row = (await conn.execute(CHANNEL_BY_CODE, {"channel": code})).first()
        return mapping.channel_from_row(row) if row else None

    async def locations(self, codes: Iterable[str] | None = None) -> dict[str, Location]:
        async with self._connect() as conn:
            if codes is None:
                return await load_locations(conn, sa.true())
            return await load_locations(conn, statement=LOCATIONS_BY_CODE,
                                        params={"codes": sorted(set(codes))})

    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]:
        async with self._connect() as conn:
            return await load_skus(conn, codes)

    async def sku_page(self, *, first: int, after: str | None,
                       product_group: str | None) -> Page[Sku]:
        where = [col(SkuRow.product_group) == product_group] if product_group else []
        async with self._connect() as conn:
            total = (await conn.execute(
                sa.select(sa.func.count()).select_from(SkuRow).where(*where))).scalar_one()
            if after:
                where.append(col(SkuRow.sku) > decode_cursor(after)[0])
            codes = (await conn.execute(sa.select(col(SkuRow.sku)).where(*where).order_by(
                col(SkuRow.sku)).limit(first + 1))).scalars().all()
            catalog = await load_skus(conn, codes[:first])
        items = [catalog[c] for c in codes[:first]]
        return Page(items, total, len(codes) > first, [encode_cursor(s.sku) for s in items])

    # --- inventory ----------------------------------------------------------------------------
    async def availability(self, skus: list[str], channel: str) -> tuple[
            dict[str, Sku], dict[str, Location], list[InventoryLevel], dict[str, list[Incoming]]]:
        """Catalog, channel locations, their levels and open receipts for `skus` and parts."""
        async with self._connect() as conn:
            catalog, locations, rows, incoming = await _channel_stock(
                conn, channel, skus, levels_statement=LEVELS_IN_CHANNEL_ORDERED,
                only_unallocated=False)
        levels = [InventoryLevel(r.sku, r.location, r.on_hand, r.reserved, r.safety_stock)
                  for r in rows]
        return catalog, locations, levels, incoming

    async def levels(self, keys: list[tuple[str, str]]) -> list[InventoryLevel]:
        async with self._connect() as conn:
            rows = (await conn.execute(sa.select(
                L.sku, L.location, L.on_hand, L.reserved, L.safety_stock).where(
                sa.tuple_(L.sku, L.location).in_(sorted(set(keys)))))).all()
        return [InventoryLevel(r.sku, r.location, r.on_hand, r.reserved, r.safety_stock)
                for r in rows]

    # --- orders -------------------------------------------------------------------------------
    async def order_by_number(self, number: str) -> Order | None:
        found = await self.orders_where(col(OrderRow.number) == number)
        return found[0] if found else None

    async def order_for_guest(self, number: str, email: str) -> Order | None:
        """The order with this number and customer email: an unknown number and a wrong
        email are the same one statement finding nothing (no timing tells them apart)."""
        found = await self.orders_where(sa.and_(col(OrderRow.number) == number,
                                                col(OrderRow.customer_email) == email))
        return found[0] if found else None

    async def order_page(self, flt: OrderSearch, *, first: int,
                         after: str | None) -> Page[Order]:
        where = _order_where(flt)
        async with self._connect() as conn:
            total = (await conn.execute(
                sa.select(sa.func.count()).select_from(OrderRow).where(*where))).scalar_one()
            if after:
                placed, order_id = _pair(decode_cursor(after))
                at = _cursor_time(placed)
                where.append(sa.or_(col(OrderRow.placed_at) < at, sa.and_(
                    col(OrderRow.placed_at) == at, col(OrderRow.id) < order_id)))
            ids = (await conn.execute(sa.select(col(OrderRow.id)).where(*where).order_by(
                col(OrderRow.placed_at).desc(), col(OrderRow.id).desc()).limit(first + 1))
                   ).scalars().all()
            found = await load_orders(conn, col(OrderRow.id).in_(ids[:first]))
        by_id = {o.id: o for o in found}
        items = [by_id[i] for i in ids[:first]]
        return Page(items, total, len(ids) > first,
                    [encode_cursor(o.placed_at.isoformat(), o.id) for o in items])

    async def orders_where(self, where: sa.ColumnElement[bool]) -> list[Order]:
        async with self._connect() as conn:
            return await load_orders(conn, where)

    async def orders_by_ids(self, ids: Iterable[str]) -> dict[str, Order]:
        found = await self.orders_where(col(OrderRow.id).in_(sorted(set(ids))))
        return {o.id: o for o in found}

    async def documents_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Issued]]:
        """The invoices and credit notes of these orders (one statement)."""
        async with self._connect() as conn:
            return await documents.of_orders(conn, list(order_ids))

    async def document(self, number: str) -> Issued | None:
        async with self._connect() as conn:
            return await documents.by_number(conn, number)

    async def returns_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Return]]:
        """Every return of these orders (three statements however many orders)."""
        async with self._connect() as conn:
            return await load_returns(conn, list(order_ids))

    async def lapsed_authorizations(self, *, now: datetime, limit: int) -> list[str]:
        async with self._connect() as conn:
            rows = (await conn.execute(payments.lapsed(now, limit=limit))).all()
        return [str(r[0]) for r in rows]

    async def completable_orders(self, delivered_before: Mapping[str, datetime], *,
                                 open_returns: Collection[ReturnStatus], limit: int
                                 ) -> list[str]:
        """DELIVERED orders whose last delivery is older than their channel's time, with no
        open return; the oldest last delivery first (one statement)."""
        if not delivered_before or limit < 1:
            return []
        async with self._connect() as conn:
            return list((await conn.execute(completable_orders(
                delivered_before, open_returns=open_returns, limit=limit))).scalars().all())

    async def return_by_number(self, number: str) -> Return | None:
        async with self._connect() as conn:
            return await return_by_number(conn, number)

    async def customer_account(self, email: str, *,
                               now: datetime) -> customers.Account | None:
        """Lifetime figures and the orders that need an agent: a constant number of reads."""
        mine = col(OrderRow.customer_email) == email
        async with self._connect() as conn:
            sums = [(currency, status == "CANCELLED", n, total) for currency, status, n, total
                    in (await conn.execute(
                        sa.select(col(OrderRow.currency), col(OrderRow.status), sa.func.count(),
                                  sa.func.sum(col(OrderRow.total_minor)))
                        .where(mine).group_by(col(OrderRow.currency), col(OrderRow.status)))).all()]
            if not sums:
                return None
            name = (await conn.execute(sa.select(col(OrderRow.customer_name)).where(mine).order_by(
                col(OrderRow.placed_at).desc(), col(OrderRow.id).desc()).limit(1))).scalar_one()
            in_trouble = sa.select(col(FulfillmentRow.order_id)).where(
                col(FulfillmentRow.status).in_(("DELIVERY_FAILED", "REJECTED")))
            late = sa.and_(col(OrderRow.promised_latest) < now, col(OrderRow.status).not_in(
                sorted(s.value for s in customers.ARRIVED_OR_GONE)))
            troubled = await load_orders(conn, sa.and_(
                mine, sa.or_(col(OrderRow.status) != "CANCELLED", col(OrderRow.id).in_(
                    payments.failing())),
                sa.or_(col(OrderRow.status) == "ON_HOLD", col(OrderRow.id).in_(in_trouble), late,
                       col(OrderRow.id).in_(payments.failing()),
                       col(OrderRow.id).in_(payments.expired(now)))))
        minor: dict[str, int] = {}
        for currency, cancelled, _, total in sums:
            if not cancelled:
                minor[currency] = minor.get(currency, 0) + total
        totals = {c: Money(mapping.from_minor(m), c) for c, m in minor.items()}
        return customers.account(
            email, name=name, orders=sum(n for _, _, n, _ in sums),
            cancelled=sum(n for _, cancelled, n, _ in sums if cancelled), totals=totals,
            troubled=troubled, now=now)

    async def operations_metrics(self, *, start: datetime, end: datetime,
                                 channel: str | None) -> metrics.OperationsMetrics:
        """The KPIs over the orders placed in [start, end): four aggregate statements."""
        async with self._connect() as conn:
            counts = await operations_counts(conn, start=start, end=end, channel=channel)
        return metrics.operations_metrics(counts)

    async def fulfillment_page(self, location: str, statuses: tuple[str, ...], *, first: int,
                               after: str | None) -> Page[tuple[str, Fulfillment]]:
        """A location's work queue, oldest first; items are (order id, fulfillment)."""
        where = [col(FulfillmentRow.location) == location]
        if statuses:
            where.append(col(FulfillmentRow.status).in_(statuses))
        async with self._connect() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(
                FulfillmentRow).where(*where))).scalar_one()
            if after:
                created, fulfillment_id = _pair(decode_cursor(after))
                at = _cursor_time(created)
                where.append(sa.or_(col(FulfillmentRow.created_at) > at, sa.and_(
                    col(FulfillmentRow.created_at) == at, col(FulfillmentRow.id) > fulfillment_id)))
            rows = (await conn.execute(sa.select(FulfillmentRow).where(*where).order_by(
                col(FulfillmentRow.created_at), col(FulfillmentRow.id)).limit(first + 1))).all()
            work = await load_fulfillments(conn, rows[:first])
        items = [(r.order_id, work[r.id]) for r in rows[:first]]
        return Page(items, total, len(rows) > first,
                    [encode_cursor(r.created_at.isoformat(), r.id) for r in rows[:first]])

    async def unacknowledged_work(self, created_before: Mapping[str, datetime], *,
                                  limit: int) -> list[OfferedWork]:
        """ASSIGNED work made before its location's time, its order neither on hold nor
        released since then; oldest first."""
        if not created_before or limit < 1:
            return []
        async with self._connect() as conn:
            rows = (await conn.execute(order_store.unacknowledged_work(
                created_before, limit=limit))).all()
        return [OfferedWork(r.id, r.order_id, r.location, r.created_at) for r in rows]

    async def orders_by_number(self, numbers: Iterable[str]) -> dict[str, Order]:
        """Whole orders by number, one batch (absent numbers are left out)."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        return {o.number: o for o in await self.orders_where(col(OrderRow.number).in_(wanted))}

    async def orders_by_fulfillment(self, fulfillment_ids: Iterable[str]) -> dict[str, Order]:
        """fulfillment id -> its whole order, one batch (absent ids are left out)."""
        wanted = set(fulfillment_ids)
        if not wanted:
            return {}
        found = await self.orders_where(col(OrderRow.id).in_(
            sa.select(col(FulfillmentRow.order_id)).where(
                col(FulfillmentRow.id).in_(sorted(wanted)))))
        return {f.id: o for o in found for f in o.fulfillments if f.id in wanted}


def _cursor_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise errors.InvalidInput("malformed cursor", field=["after"]) from None

def _pair(parts: list[str]) -> tuple[str, str]:
    if len(parts) != 2:
        raise errors.InvalidInput("malformed cursor", field=["after"])
    return parts[0], parts[1]


def _order_where(flt: OrderSearch) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if flt.customer_email is not None:
        where.append(col(OrderRow.customer_email) == flt.customer_email.lower())
    if flt.statuses:
        where.append(col(OrderRow.status).in_(flt.statuses))
    if flt.channel:
        where.append(col(OrderRow.channel) == flt.channel)
    if flt.placed_from:
        where.append(col(OrderRow.placed_at) >= flt.placed_from)
    if flt.placed_to:
        where.append(col(OrderRow.placed_at) < flt.placed_to)
    if flt.fulfilled_from is not None:
        where.append(col(OrderRow.id).in_(sa.select(col(FulfillmentRow.order_id)).where(
            col(FulfillmentRow.location).in_(sorted(flt.fulfilled_from)))))
    return where


async def _idempotency(conn: AsyncConnection, key: str) -> IdempotencyRecord | None:
    row = (await conn.execute(IDEMPOTENCY_BY_KEY, {"key": key})).first()
    return IdempotencyRecord(row.key, row.fingerprint, row.order_id) if row else None


async def _channel_stock(conn: AsyncConnection, channel: str, skus: list[str], *,
                         levels_statement: sa.Select[*tuple[Any, ...]], only_unallocated: bool
                         ) -> tuple[dict[str, Sku], dict[str, Location], Sequence[Any],
                                    dict[str, list[Incoming]]]:
    """What placing an order and availability both read: the SKUs with their kit parts, the
    channel's locations, their level rows and open receipts (in one transaction)."""
    parts = (await conn.execute(KIT_PARTS, {"skus": skus})).scalars().all()
    catalog = await load_skus(conn, [*skus, *parts])
    locations = await load_locations(conn, statement=LOCATIONS_IN_CHANNEL,
                                     params={"channel": channel})
    stocked = sorted({s for s, sku in catalog.items() if not sku.is_kit})
    rows = (await conn.execute(levels_statement, {"stocked": stocked, "channel": channel})).all()
    incoming = await _open_incoming(conn, stocked, only_unallocated=only_unallocated)
    return catalog, locations, rows, incoming


async def _open_incoming(conn: AsyncConnection, skus: list[str], *,
                         only_unallocated: bool = True) -> dict[str, list[Incoming]]:
    stmt = UNALLOCATED_INCOMING if only_unallocated else OPEN_INCOMING
    rows = (await conn.execute(stmt, {"skus": skus})).all()
    out: dict[str, list[Incoming]] = {}
    for r in rows:
        out.setdefault(r.sku, []).append(
            mapping.incoming_from_row(r))
    return out
