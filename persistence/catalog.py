"""The catalog's tables: SKUs with prices and kit parts, locations with channels."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.catalog import Channel, Location, Sku
from persistence import mapping
from persistence.db import insert_for
from persistence.tables import (
    ChannelRow,
    KitComponentRow,
    LocationChannelRow,
    LocationRow,
    SkuPriceRow,
    SkuRow,
    table,
)

_SKU, _PRICE, _KIT = table(SkuRow), table(SkuPriceRow), table(KitComponentRow)
_LOC, _LOC_CH = table(LocationRow), table(LocationChannelRow)
# Hot statements are built once: SQLAlchemy then finds them in its compiled cache without
# building and hashing a new statement on every call (IN lists are expanding bind parameters).
SKUS_WITH_PRICES = (sa.select(_SKU, _PRICE.c.currency, _PRICE.c.amount_minor)
                    .outerjoin(_PRICE, _PRICE.c.sku == _SKU.c.sku)
                    .where(_SKU.c.sku.in_(sa.bindparam("codes", expanding=True))))
KIT_COMPONENTS = sa.select(_KIT).where(_KIT.c.kit.in_(sa.bindparam("codes", expanding=True)))
LOCATIONS = sa.select(_LOC, _LOC_CH.c.channel).outerjoin(
    _LOC_CH, _LOC_CH.c.location == _LOC.c.code)
IN_CHANNEL = sa.select(_LOC_CH.c.location).where(_LOC_CH.c.channel == sa.bindparam("channel"))
LOCATIONS_IN_CHANNEL = LOCATIONS.where(_LOC.c.code.in_(IN_CHANNEL)).order_by(_LOC.c.code)
LOCATIONS_BY_CODE = LOCATIONS.where(
    _LOC.c.code.in_(sa.bindparam("codes", expanding=True))).order_by(_LOC.c.code)


# Location rows mapped before (a location is immutable: equal rows give equal objects).
_LOCATION_CACHE: dict[tuple[Hashable, ...], Location] = {}
_LOCATION_CACHE_MAX = 4096


async def load_skus(conn: AsyncConnection, codes: Iterable[str]) -> dict[str, Sku]:
    """SKUs with their prices (one joined statement) and kit components (one more)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = (await conn.execute(SKUS_WITH_PRICES, {"codes": codes})).all()
    parts = (await conn.execute(KIT_COMPONENTS, {"codes": codes})).all()
    by_sku: dict[str, tuple[Any, dict[str, Decimal]]] = {}  # row, prices
    for r in rows:
        entry = by_sku.setdefault(r.sku, (r, {}))
        if r.currency is not None:
            entry[1][r.currency] = mapping.from_minor(r.amount_minor)
    part_map: dict[str, list[tuple[str, int]]] = {}
    for k in parts:
        part_map.setdefault(k.kit, []).append((k.component, k.quantity))
    return {code: mapping.sku_from_row(row, prices, part_map.get(code, []))
            for code, (row, prices) in by_sku.items()}


async def load_locations(conn: AsyncConnection, where: sa.ColumnElement[bool] | None = None, *,
                         statement: sa.Select[*tuple[Any, ...]] | None = None,
                         params: dict[str, Any] | None = None) -> dict[str, Location]:
    """Locations with their channels: `where` a condition, or a prebuilt `statement` (one of
    LOCATIONS_…) with its `params`."""
    if statement is None:
        assert where is not None, "a condition or a statement"
        statement = LOCATIONS.where(where).order_by(_LOC.c.code)
    rows = (await conn.execute(statement, params)).all()
    by_code: dict[str, tuple[Any, list[str]]] = {}  # row, channels
    for row in rows:
        entry = by_code.setdefault(row.code, (row, []))
        if row.channel is not None:
            entry[1].append(row.channel)
    return {code: _location(row, channels) for code, (row, channels) in by_code.items()}


def _location(row: Any, channels: list[str]) -> Location:
    key = (*row[:-1], *sorted(channels))
    found = _LOCATION_CACHE.get(key)
    if found is None:
        if len(_LOCATION_CACHE) >= _LOCATION_CACHE_MAX:
            _LOCATION_CACHE.clear()
        found = _LOCATION_CACHE[key] = mapping.location_from_row(row, channels)
    return found


class SqlCatalogRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now

    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]:
        return await load_skus(self.conn, codes)

    async def locations(self, codes: Iterable[str]) -> dict[str, Location]:
        return await load_locations(self.conn, statement=LOCATIONS_BY_CODE,
                                    params={"codes": sorted(set(codes))})

    async def save_locations(self, locations: list[Location]) -> None:
        values = [mapping.location_values(loc, self.now) for loc in locations]
        stmt = insert_for(self.conn, table(LocationRow))
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={k: stmt.excluded[k] for k in values[0] if k != "code"}), values)
        codes = [loc.code for loc in locations]
        await self.conn.execute(sa.delete(LocationChannelRow).where(
            col(LocationChannelRow.location).in_(codes)))
        links = [{"location": loc.code, "channel": ch} for loc in locations for ch in loc.channels]
        if links:
            await self.conn.execute(sa.insert(table(LocationChannelRow)), links)

    async def save_skus(self, skus: list[Sku]) -> None:
        values = [{"sku": s.sku, "name": s.name, "product_group": s.product_group,
                   "handling": s.handling.value, "weight_grams": s.weight_grams,
                   "backorderable": s.backorderable, "preorderable": s.preorderable,
                   "is_kit": s.is_kit, "updated_at": self.now,
                   "tax_class": s.tax_class.value} for s in skus]
        stmt = insert_for(self.conn, table(SkuRow))
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["sku"], set_={k: stmt.excluded[k] for k in values[0] if k != "sku"}),
            values)
        codes = [s.sku for s in skus]
        await self.conn.execute(sa.delete(SkuPriceRow).where(col(SkuPriceRow.sku).in_(codes)))
        await self.conn.execute(
            sa.delete(KitComponentRow).where(col(KitComponentRow.kit).in_(codes)))
        prices = [{"sku": s.sku, "currency": c, "amount_minor": mapping.to_minor(a)}
                  for s in skus for c, a in s.prices.items()]
        if prices:
            await self.conn.execute(sa.insert(table(SkuPriceRow)), prices)
        parts = [{"kit": s.sku, "component": c.sku, "quantity": c.quantity}
                 for s in skus for c in s.components]
        if parts:
            await self.conn.execute(sa.insert(table(KitComponentRow)), parts)

    async def channels(self) -> list[Channel]:
        rows = (await self.conn.execute(sa.select(ChannelRow).order_by(ChannelRow.code))).all()
        return [mapping.channel_from_row(r) for r in rows]

    async def save_channel(self, channel: Channel) -> None:
        await self.conn.execute(sa.update(table(ChannelRow)).where(
            col(ChannelRow.code) == channel.code).values(
            payment_required=channel.payment_required, sender_name=channel.sender_name,
            brand_color=channel.brand_color, locale=channel.locale))
