"""Inventory's tables: levels behind the reservation guard, the ledger, receipts.

`RESERVE` is the SQL side of `InventoryRepository.reserve` (domain/inventory/ports.py): one
conditional UPDATE per line, so two buyers can never both take the last unit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.inventory.ports import LevelKey
from persistence import mapping
from persistence.db import insert_for
from persistence.tables import (
    IncomingRow,
    InventoryLevelRow,
    LedgerRow,
    UtcDateTime,
    table,
)

L = table(InventoryLevelRow).c
_INCOMING = table(IncomingRow)


RESERVE = (sa.update(table(InventoryLevelRow))
           .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"),
                  L.on_hand - L.reserved - L.safety_stock >= sa.bindparam("k_units"))
           .values(reserved=L.reserved + sa.bindparam("k_units"),
                   updated_at=sa.bindparam("k_now", type_=UtcDateTime()))
           .returning(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock))
# Undoes the lines a refused `reserve` or `move` had already applied in this transaction, so
# that None really means "nothing changed" (only on that path: the hot path pays nothing).
UNDO = (sa.update(table(InventoryLevelRow))
        .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"))
        .values(on_hand=L.on_hand - sa.bindparam("k_on"),
                reserved=L.reserved - sa.bindparam("k_res")))
INSERT_LEDGER = sa.insert(table(LedgerRow))
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
            stmt = insert_for(self.conn, table(InventoryLevelRow)).on_conflict_do_nothing()
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
            sa.update(table(InventoryLevelRow))
            .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"))
            .values(on_hand=sa.bindparam("k_on_hand"), safety_stock=sa.bindparam("k_safety"),
                    updated_at=self.now),
            [{"k_sku": lv.sku, "k_location": lv.location, "k_on_hand": lv.on_hand,
              "k_safety": lv.safety_stock} for lv in levels])

    async def reserve(self, wants: list[tuple[str, str, int]]) -> list[InventoryLevel] | None:
        # One conditional UPDATE per (sku, location), in sorted order so that two orders never
        # wait on each other's rows crosswise. A row lock taken here is held until commit.
        levels: list[InventoryLevel] = []
        ordered = sorted(wants)
        for sku, location, units in ordered:
            row = (await self.conn.execute(RESERVE, {
                "k_sku": sku, "k_location": location, "k_units": units, "k_now": self.now})
                   ).first()
            if row is None:
                await self._undo([(s, loc, 0, n) for s, loc, n in ordered[:len(levels)]])
                return None
            levels.append(InventoryLevel(row.sku, row.location, row.on_hand, row.reserved,
                                         row.safety_stock))
        return levels

    async def _undo(self, applied: list[tuple[str, str, int, int]]) -> None:
        """Take back, last first, what the lines before a refused one changed: each level
        goes back through the states it had, so no CHECK constraint can fire on the way."""
        applied = list(reversed(applied))
        if applied:
            await self.conn.execute(UNDO, [{"k_sku": sku, "k_location": loc, "k_on": d_on,
                                            "k_res": d_res} for sku, loc, d_on, d_res in applied])

    async def move(self, changes: list[tuple[str, str, int, int]]) -> list[InventoryLevel] | None:
        """Apply (sku, location, onHand delta, reserved delta) to each level only if it stays
        valid — nothing negative, nothing promised beyond onHand − safetyStock; all or
        nothing (None). Each change is one conditional UPDATE, in sorted order."""
        if any(on_hand > 0 for _, _, on_hand, _ in changes):
            await self.conn.execute(
                insert_for(self.conn, table(InventoryLevelRow)).on_conflict_do_nothing(),
                [{"sku": s, "location": loc, "on_hand": 0, "reserved": 0, "safety_stock": 0,
                  "updated_at": self.now} for s, loc, on_hand, _ in changes if on_hand > 0])
        on_hand, reserved = L.on_hand + sa.bindparam("k_on"), L.reserved + sa.bindparam("k_res")
        stmt = (sa.update(table(InventoryLevelRow))
                .where(L.sku == sa.bindparam("k_sku"), L.location == sa.bindparam("k_location"),
                       on_hand >= 0, reserved >= 0, on_hand - reserved - L.safety_stock >= 0)
                .values(on_hand=on_hand, reserved=reserved, updated_at=self.now)
                .returning(L.sku, L.location, L.on_hand, L.reserved, L.safety_stock))
        levels: list[InventoryLevel] = []
        ordered = sorted(changes)
        for sku, location, d_on, d_res in ordered:
            row = (await self.conn.execute(stmt, {"k_sku": sku, "k_location": location,
                                                  "k_on": d_on, "k_res": d_res})).first()
            if row is None:
                await self._undo(ordered[:len(levels)])
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
            col(IncomingRow.id) == incoming_id))).first()
        return mapping.incoming_from_row(row) if row else None

    async def receive_incoming(self, incoming_id: str, quantity: int) -> bool:
        """Mark a receipt received, once: False when it already was."""
        c = _INCOMING.c
        result = await self.conn.execute(
            sa.update(_INCOMING)
            .where(c.id == incoming_id, c.received_at.is_(None))
            .values(received_at=self.now, received_quantity=quantity))
        return result.rowcount == 1

    async def release_incoming(self, incoming_id: str, units: int) -> bool:
        """Give back units promised against an open receipt (their backorder is gone); a
        received receipt promises nothing any more. False when it does not hold them."""
        c = _INCOMING.c
        result = await self.conn.execute(
            sa.update(_INCOMING)
            .where(c.id == incoming_id, c.received_at.is_(None), c.allocated >= units)
            .values(allocated=c.allocated - units))
        if result.rowcount == 1:
            return True
        received = (await self.conn.execute(sa.select(c.received_at).where(
            c.id == incoming_id))).scalar_one_or_none()
        return received is not None

    async def allocate_incoming(self, incoming_id: str, units: int) -> bool:
        c = _INCOMING.c
        result = await self.conn.execute(
            sa.update(_INCOMING)
            .where(c.id == incoming_id, c.received_at.is_(None),
                   c.quantity - c.allocated >= units)
            .values(allocated=c.allocated + units))
        return result.rowcount == 1
