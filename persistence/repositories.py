"""Repositories over one AsyncConnection inside the unit of work's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.catalog import Channel, Location, Sku
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.inventory.ports import LevelKey
from domain.kernel.ports import IdempotencyRecord
from domain.orders import Order
from persistence import mapping, order_store
from persistence.tables import (
    ChannelRow,
    CounterRow,
    FulfillmentRow,
    IdempotencyRow,
    IncomingRow,
    InventoryLevelRow,
    KitComponentRow,
    LedgerRow,
    LocationChannelRow,
    LocationRow,
    OrderRow,
    SkuPriceRow,
    SkuRow,
    UtcDateTime,
)

L = InventoryLevelRow.__table__.c


def insert_for(conn: AsyncConnection, table):
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


_SKU, _PRICE, _KIT = SkuRow.__table__, SkuPriceRow.__table__, KitComponentRow.__table__
_LOC, _LOC_CH = LocationRow.__table__, LocationChannelRow.__table__
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
RESERVE = (sa.update(InventoryLevelRow.__table__)
           .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"),
                  L.on_hand - L.reserved - L.safety_stock >= sa.bindparam("k_units"))
           .values(reserved=L.reserved + sa.bindparam("k_units"),
                   updated_at=sa.bindparam("k_now", type_=UtcDateTime()))
           .returning(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock))
INSERT_LEDGER = sa.insert(LedgerRow.__table__)
PG_ADD_LEVELS = sa.text(
    "INSERT INTO inventory_levels (sku, location, on_hand, reserved, safety_stock, updated_at) "
    "SELECT k.sku, k.location, 0, 0, 0, :now FROM unnest(CAST(:skus AS varchar[]), "
    "CAST(:locations AS varchar[])) AS k(sku, location) ON CONFLICT DO NOTHING"
).bindparams(sa.bindparam("now", type_=UtcDateTime()))
PG_LOCK_LEVELS = sa.text(
    "SELECT l.sku, l.location, l.on_hand, l.reserved, l.safety_stock FROM inventory_levels l "
    "JOIN unnest(CAST(:skus AS varchar[]), CAST(:locations AS varchar[])) AS k(sku, location) "
    "ON l.sku = k.sku AND l.location = k.location ORDER BY l.sku, l.location FOR UPDATE OF l")
PG_SAVE_LEVELS = sa.text(
    "UPDATE inventory_levels AS l SET on_hand = v.on_hand, safety_stock = v.safety, "
    "updated_at = :now FROM unnest(CAST(:skus AS varchar[]), CAST(:locations AS varchar[]), "
    "CAST(:on_hand AS integer[]), CAST(:safety AS integer[])) AS v(sku, location, on_hand, "
    "safety) WHERE l.sku = v.sku AND l.location = v.location"
).bindparams(sa.bindparam("now", type_=UtcDateTime()))
NEXT_ORDER_NUMBER = sa.text("SELECT nextval('order_number_seq')")
_KEYS = IdempotencyRow.__table__
CLAIM_KEY = {  # by "is PostgreSQL"
    pg: dialect.insert(_KEYS).values(
        key=sa.bindparam("key"), fingerprint=sa.bindparam("fingerprint"),
        order_id=sa.bindparam("order_id"), created_at=sa.bindparam("created_at"),
    ).on_conflict_do_nothing().returning(_KEYS.c.key)
    for pg, dialect in ((True, postgresql), (False, sqlite))}
# Location rows mapped before (a location is immutable: equal rows give equal objects).
_LOCATION_CACHE: dict[tuple, Location] = {}
_LOCATION_CACHE_MAX = 4096


async def load_skus(conn: AsyncConnection, codes: Iterable[str]) -> dict[str, Sku]:
    """SKUs with their prices (one joined statement) and kit components (one more)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = (await conn.execute(SKUS_WITH_PRICES, {"codes": codes})).all()
    parts = (await conn.execute(KIT_COMPONENTS, {"codes": codes})).all()
    by_sku: dict[str, tuple] = {}
    for r in rows:
        entry = by_sku.setdefault(r.sku, (r, {}))
        if r.currency is not None:
            entry[1][r.currency] = mapping.from_minor(r.amount_minor)
    part_map: dict[str, list] = {}
    for k in parts:
        part_map.setdefault(k.kit, []).append((k.component, k.quantity))
    return {code: mapping.sku_from_row(row, prices, part_map.get(code, []))
            for code, (row, prices) in by_sku.items()}


async def load_locations(conn: AsyncConnection, where=None, *, statement=None,
                         params: dict | None = None) -> dict[str, Location]:
    """Locations with their channels: `where` a condition, or a prebuilt `statement` (one of
    LOCATIONS_…) with its `params`."""
    if statement is None:
        statement = LOCATIONS.where(where).order_by(_LOC.c.code)
    rows = (await conn.execute(statement, params)).all()
    by_code: dict[str, tuple] = {}
    for row in rows:
        entry = by_code.setdefault(row.code, (row, []))
        if row.channel is not None:
            entry[1].append(row.channel)
    return {code: _location(row, channels) for code, (row, channels) in by_code.items()}


def _location(row, channels: list[str]) -> Location:
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
        stmt = insert_for(self.conn, LocationRow.__table__)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={k: stmt.excluded[k] for k in values[0] if k != "code"}), values)
        codes = [loc.code for loc in locations]
        await self.conn.execute(sa.delete(LocationChannelRow).where(
            LocationChannelRow.location.in_(codes)))
        links = [{"location": loc.code, "channel": ch} for loc in locations for ch in loc.channels]
        if links:
            await self.conn.execute(sa.insert(LocationChannelRow.__table__), links)

    async def save_skus(self, skus: list[Sku]) -> None:
        values = [{"sku": s.sku, "name": s.name, "product_group": s.product_group,
                   "handling": s.handling.value, "weight_grams": s.weight_grams,
                   "backorderable": s.backorderable, "preorderable": s.preorderable,
                   "is_kit": s.is_kit, "updated_at": self.now} for s in skus]
        stmt = insert_for(self.conn, SkuRow.__table__)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["sku"], set_={k: stmt.excluded[k] for k in values[0] if k != "sku"}),
            values)
        codes = [s.sku for s in skus]
        await self.conn.execute(sa.delete(SkuPriceRow).where(SkuPriceRow.sku.in_(codes)))
        await self.conn.execute(sa.delete(KitComponentRow).where(KitComponentRow.kit.in_(codes)))
        prices = [{"sku": s.sku, "currency": c, "amount_minor": mapping.to_minor(a)}
                  for s in skus for c, a in s.prices.items()]
        if prices:
            await self.conn.execute(sa.insert(SkuPriceRow.__table__), prices)
        parts = [{"kit": s.sku, "component": c.sku, "quantity": c.quantity}
                 for s in skus for c in s.components]
        if parts:
            await self.conn.execute(sa.insert(KitComponentRow.__table__), parts)

    async def channels(self) -> list[Channel]:
        rows = (await self.conn.execute(sa.select(ChannelRow).order_by(ChannelRow.code))).all()
        return [mapping.channel_from_row(r) for r in rows]


class SqlInventoryRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now

    async def levels_for_update(self, keys: list[LevelKey]) -> dict[LevelKey, InventoryLevel]:
        keys = sorted(set(keys))
        if self.conn.dialect.name == "postgresql":  # arrays: one plan, however many keys
            arrays = {"skus": [k[0] for k in keys], "locations": [k[1] for k in keys]}
            await self.conn.execute(PG_ADD_LEVELS, {**arrays, "now": self.now})
            rows = (await self.conn.execute(PG_LOCK_LEVELS, arrays)).all()
        else:
            stmt = insert_for(self.conn, InventoryLevelRow.__table__).on_conflict_do_nothing()
            await self.conn.execute(stmt, [{"sku": s, "location": loc, "on_hand": 0,
                                            "reserved": 0, "safety_stock": 0,
                                            "updated_at": self.now} for s, loc in keys])
            rows = (await self.conn.execute(
                sa.select(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock)
                .where(sa.tuple_(L.sku, L.location).in_(keys))
                .order_by(L.sku, L.location).with_for_update())).all()
        return {(r.sku, r.location): InventoryLevel(r.sku, r.location, r.on_hand, r.reserved,
                                                    r.safety_stock) for r in rows}

    async def save_levels(self, levels: list[InventoryLevel]) -> None:
        if self.conn.dialect.name == "postgresql":
            # one UPDATE … FROM unnest(arrays) instead of one execution per level: a batch of
            # a thousand levels (an import) costs about what one costs
            await self.conn.execute(PG_SAVE_LEVELS, {
                "skus": [lv.sku for lv in levels], "locations": [lv.location for lv in levels],
                "on_hand": [lv.on_hand for lv in levels],
                "safety": [lv.safety_stock for lv in levels], "now": self.now})
            return
        await self.conn.execute(
            sa.update(InventoryLevelRow.__table__)
            .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"))
            .values(on_hand=sa.bindparam("k_on_hand"), safety_stock=sa.bindparam("k_safety"),
                    updated_at=self.now),
            [{"k_sku": lv.sku, "k_location": lv.location, "k_on_hand": lv.on_hand,
              "k_safety": lv.safety_stock} for lv in levels])

    async def reserve(self, wants: list[tuple[str, str, int]]) -> list[InventoryLevel] | None:
        # One conditional UPDATE per (sku, location), in sorted order so that two orders never
        # wait on each other's rows crosswise. A row lock taken here is held until commit.
        levels = []
        for sku, location, units in sorted(wants):
            row = (await self.conn.execute(RESERVE, {
                "k_sku": sku, "k_location": location, "k_units": units, "k_now": self.now})
                   ).first()
            if row is None:
                return None
            levels.append(InventoryLevel(row.sku, row.location, row.on_hand, row.reserved,
                                         row.safety_stock))
        return levels

    async def move(self, changes: list[tuple[str, str, int, int]]) -> list[InventoryLevel] | None:
        """Apply (sku, location, onHand delta, reserved delta) to each level only if it stays
        valid — nothing negative, nothing promised beyond onHand − safetyStock; all or
        nothing (None). Each change is one conditional UPDATE, in sorted order."""
        if any(on_hand > 0 for _, _, on_hand, _ in changes):
            await self.conn.execute(
                insert_for(self.conn, InventoryLevelRow.__table__).on_conflict_do_nothing(),
                [{"sku": s, "location": loc, "on_hand": 0, "reserved": 0, "safety_stock": 0,
                  "updated_at": self.now} for s, loc, on_hand, _ in changes if on_hand > 0])
        on_hand, reserved = L.on_hand + sa.bindparam("k_on"), L.reserved + sa.bindparam("k_res")
        stmt = (sa.update(InventoryLevelRow.__table__)
                .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"),
                       on_hand >= 0, reserved >= 0, on_hand - reserved - L.safety_stock >= 0)
                .values(on_hand=on_hand, reserved=reserved, updated_at=self.now)
                .returning(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock))
        levels = []
        for sku, location, d_on, d_res in sorted(changes):
            row = (await self.conn.execute(stmt, {"k_sku": sku, "k_location": location,
                                                  "k_on": d_on, "k_res": d_res})).first()
            if row is None:
                return None
            levels.append(InventoryLevel(row.sku, row.location, row.on_hand, row.reserved,
                                         row.safety_stock))
        return levels

    async def release(self, wants: list[tuple[str, str, int]]) -> list[InventoryLevel] | None:
        """The mirror of `reserve`: conditional, sorted, all or nothing."""
        return await self.move([(sku, location, 0, -units) for sku, location, units in wants])

    async def append_ledger(self, entries: list[LedgerEntry]) -> None:
        if entries:
            await self.conn.execute(INSERT_LEDGER, [
                {"sku": e.sku, "location": e.location, "on_hand_delta": e.on_hand_delta,
                 "reserved_delta": e.reserved_delta, "reason": e.reason,
                 "reference": e.reference, "actor": e.actor, "at": e.at} for e in entries])

    async def add_incoming(self, incoming: Incoming) -> None:
        await self.conn.execute(sa.insert(IncomingRow).values(
            id=incoming.id, sku=incoming.sku, location=incoming.location,
            quantity=incoming.quantity, allocated=incoming.allocated,
            expected_at=incoming.expected_at, created_at=self.now))

    async def incoming(self, incoming_id: str) -> Incoming | None:
        row = (await self.conn.execute(sa.select(IncomingRow).where(
            IncomingRow.id == incoming_id))).first()
        return mapping.incoming_from_row(row) if row else None

    async def receive_incoming(self, incoming_id: str, quantity: int) -> bool:
        """Mark a receipt received, once: False when it already was."""
        c = IncomingRow.__table__.c
        result = await self.conn.execute(
            sa.update(IncomingRow.__table__)
            .where(c.id == incoming_id, c.received_at.is_(None))
            .values(received_at=self.now, received_quantity=quantity))
        return result.rowcount == 1

    async def release_incoming(self, incoming_id: str, units: int) -> bool:
        """Give back units promised against an open receipt (their backorder is gone); a
        received receipt promises nothing any more. False when it does not hold them."""
        c = IncomingRow.__table__.c
        result = await self.conn.execute(
            sa.update(IncomingRow.__table__)
            .where(c.id == incoming_id, c.received_at.is_(None), c.allocated >= units)
            .values(allocated=c.allocated - units))
        if result.rowcount == 1:
            return True
        received = (await self.conn.execute(sa.select(c.received_at).where(
            c.id == incoming_id))).scalar_one_or_none()
        return received is not None

    async def allocate_incoming(self, incoming_id: str, units: int) -> bool:
        c = IncomingRow.__table__.c
        result = await self.conn.execute(
            sa.update(IncomingRow.__table__)
            .where(c.id == incoming_id, c.received_at.is_(None),
                   c.quantity - c.allocated >= units)
            .values(allocated=c.allocated + units))
        return result.rowcount == 1


class SqlOrderRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now
        self._loaded: dict[str, order_store.Loaded] = {}

    async def next_number(self) -> str:
        if self.conn.dialect.name == "postgresql":
            value = (await self.conn.execute(NEXT_ORDER_NUMBER)).scalar_one()
        else:
            c = CounterRow.__table__.c
            value = (await self.conn.execute(
                sa.update(CounterRow.__table__).where(c.name == "order_number")
                .values(value=c.value + 1).returning(c.value))).scalar_one()
        return f"PR-{value:06d}"

    async def add(self, order: Order) -> None:
        await order_store.insert_order(self.conn, order)

    async def get(self, *, number: str | None = None,
                  fulfillment_id: str | None = None) -> Order | None:
        """An order, locked until the transaction ends, by number or by one of its
        fulfillments."""
        if number is not None:
            where = OrderRow.number == number
        else:
            where = OrderRow.id == sa.select(FulfillmentRow.order_id).where(
                FulfillmentRow.id == fulfillment_id).scalar_subquery()
        found = await self._load(where)
        return found[0] if found else None

    async def get_many(self, ids: list[str]) -> list[Order]:
        """Orders by id, locked in id order."""
        return await self._load(OrderRow.id.in_(sorted(set(ids)))) if ids else []

    async def _load(self, where) -> list[Order]:
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


class SqlIdempotencyRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        # On PostgreSQL a concurrent insert of the same key waits here until the other
        # transaction ends; then either we own the key or we read the committed winner.
        stmt = CLAIM_KEY[self.conn.dialect.name == "postgresql"]
        if (await self.conn.execute(stmt, {
                "key": record.key, "fingerprint": record.fingerprint,
                "order_id": record.order_id, "created_at": self.now})).first() is not None:
            return None
        row = (await self.conn.execute(sa.select(IdempotencyRow).where(
            IdempotencyRow.key == record.key))).one()
        return IdempotencyRecord(row.key, row.fingerprint, row.order_id)
