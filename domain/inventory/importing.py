"""Bulk imports: a batch of checked records per transaction, idempotent, rows refused alone.

The same invariants as `setInventory` and `upsertSkus`: every onHand change is a ledger row
and an INVENTORY_CHANGED event in the same transaction; a level already as counted (a SKU
already as described) writes nothing and emits nothing, so importing the same file twice
changes nothing the second time. A record the database refuses (unknown SKU or location, a
kit, a count below what is reserved) becomes a `Rejection` and the rest of its batch goes on.
With `dry_run` everything is checked against the database and then rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain import access, inventory
from domain.access import Principal
from domain.catalog import Location, Sku
from domain.catalog.services import CATALOG_STREAM
from domain.inventory import InventoryLevel, LedgerEntry
from domain.inventory.bulk import Rejection
from domain.inventory.ports import UnitOfWork, UnitOfWorkFactory
from domain.inventory.services import LevelSnapshot
from domain.kernel import errors, events
from domain.kernel.ports import Clock

MAX_BATCH = 5000


@dataclass
class BatchResult:
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


async def import_levels(uow: UnitOfWorkFactory, rows: list[tuple[int, LevelSnapshot]], *,
                        reason: str, principal: Principal, clock: Clock,
                        dry_run: bool = False) -> BatchResult:
    """Apply (line, snapshot) records in one transaction; keys must be distinct."""
    access.require(principal, "inventory.write")
    reason = inventory.check_reason(reason, field=["reason"])
    if len(rows) > MAX_BATCH:
        raise errors.InvalidInput(f"at most {MAX_BATCH} records per batch")
    result = BatchResult()
    now = clock.now()
    async with uow() as tx:
        skus = await tx.catalog.skus({s.sku for _, s in rows})
        locations = await tx.catalog.locations({s.location for _, s in rows})
        good = []
        for line, s in rows:
            refusal = _refusal(s, skus, locations, principal)
            if refusal:
                result.rejected.append(Rejection(line, *refusal))
            else:
                good.append((line, s))
        levels = await tx.inventory.levels_for_update([(s.sku, s.location) for _, s in good])
        changed = []
        for line, s in good:
            level = levels[(s.sku, s.location)]
            before = (level.on_hand, level.safety_stock)
            try:
                delta = inventory.apply_snapshot(level, on_hand=s.on_hand,
                                                 safety_stock=s.safety_stock, field=[])
            except errors.DomainError as exc:
                result.rejected.append(Rejection(line, "on_hand", exc.message))
                continue
            if (level.on_hand, level.safety_stock) == before:
                result.unchanged += 1
            else:
                changed.append((level, delta))
        result.changed = len(changed)
        if changed:
            await _write_levels(tx, changed, reason=reason, actor=principal.actor, at=now)
        if not dry_run:
            await tx.commit()
    result.rejected.sort(key=lambda r: r.line)
    return result


async def _write_levels(tx: UnitOfWork, changed: list[tuple[InventoryLevel, int]], *,
                        reason: str, actor: str, at: datetime) -> None:
    """The levels, a ledger row per onHand change and an event per level, as setInventory."""
    await tx.inventory.save_levels([lv for lv, _ in changed])
    await tx.inventory.append_ledger(
        [LedgerEntry(lv.sku, lv.location, d, 0, reason, None, actor, at)
         for lv, d in changed if d])
    tx.emit(*[events.inventory_changed(
        sku=lv.sku, location=lv.location, on_hand=lv.on_hand, reserved=lv.reserved,
        safety_stock=lv.safety_stock, reason=reason, at=at) for lv, _ in changed])


def _refusal(s: LevelSnapshot, skus: dict[str, Sku], locations: dict[str, Location],
             principal: Principal) -> tuple[str, str] | None:
    if s.sku not in skus:
        return "sku", f"unknown SKU {s.sku!r}"
    if skus[s.sku].is_kit:
        return "sku", f"{s.sku} is a kit: stock is kept for its components"
    if s.location not in locations:
        return "location", f"unknown location {s.location!r}"
    try:
        access.require_location(principal, s.location, field=[])
    except errors.Forbidden as exc:
        return "location", exc.message
    return None


async def import_skus(uow: UnitOfWorkFactory, rows: list[tuple[int, Sku]], *,
                      principal: Principal, clock: Clock, dry_run: bool = False
                      ) -> BatchResult:
    """Create or update plain SKUs in one transaction; codes must be distinct."""
    access.require(principal, "catalog.write")
    if len(rows) > MAX_BATCH:
        raise errors.InvalidInput(f"at most {MAX_BATCH} records per batch")
    result = BatchResult()
    async with uow() as tx:
        known = await tx.catalog.skus({s.sku for _, s in rows})
        changed = []
        for line, sku in rows:
            existing = known.get(sku.sku)
            if existing is not None and existing.is_kit:
                result.rejected.append(Rejection(
                    line, "sku", f"{sku.sku} is a kit: change it through upsertSkus"))
            elif existing == sku:
                result.unchanged += 1
            else:
                changed.append(sku)
        result.changed = len(changed)
        if changed:
            await tx.catalog.save_skus(changed)
            tx.emit(events.Event("SKUS_UPSERTED", clock.now(), (CATALOG_STREAM,),
                                 {"skus": [s.sku for s in changed]}))
        if not dry_run:
            await tx.commit()
    return result
