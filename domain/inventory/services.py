"""Inventory use cases: snapshots, deltas and expected receipts, each written to the ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import access, inventory
from domain.access import Principal
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.inventory.ports import UnitOfWork, UnitOfWorkFactory
from domain.kernel import dates, errors, events
from domain.kernel.ports import Clock

MAX_LEVELS = 250


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    sku: str
    location: str
    on_hand: int
    safety_stock: int | None = None


async def _check_keys(tx: UnitOfWork, keys: list[tuple[str, str]], *, path: str,
                      principal: Principal) -> None:
    skus = await tx.catalog.skus({k[0] for k in keys})
    locations = await tx.catalog.locations({k[1] for k in keys})
    for i, (sku, location) in enumerate(keys):
        at = [path, str(i)] if path else []
        if sku not in skus:
            raise errors.UnknownSku(f"unknown SKU {sku!r}", field=[*at, "sku"])
        if skus[sku].is_kit:
            raise errors.InvalidInput(f"{sku} is a kit: stock is kept for its components",
                                      field=[*at, "sku"])
        if location not in locations:
            raise errors.UnknownLocation(f"unknown location {location!r}",
                                         field=[*at, "location"])
        access.require_location(principal, location, field=[*at, "location"])


async def set_inventory(uow: UnitOfWorkFactory, snapshot: list[LevelSnapshot], *, reason: str,
                        principal: Principal, clock: Clock) -> list[InventoryLevel]:
    """Apply a stock count from an ERP/WMS: onHand set absolutely, the ledger gets the delta."""
    access.require(principal, "inventory.write")
    reason = inventory.check_reason(reason, field=["reason"])
    if not snapshot or len(snapshot) > MAX_LEVELS:
        raise errors.InvalidInput(f"levels must hold 1-{MAX_LEVELS} rows", field=["levels"])
    keys = [(s.sku, s.location) for s in snapshot]
    if len(set(keys)) != len(keys):
        raise errors.InvalidInput("a (sku, location) appears twice", field=["levels"])
    for i, s in enumerate(snapshot):
        inventory.check_units(s.on_hand, what="onHand", field=["levels", str(i), "onHand"])
        if s.safety_stock is not None:
            inventory.check_units(s.safety_stock, what="safetyStock",
                                  field=["levels", str(i), "safetyStock"])
    now = clock.now()
    async with uow() as tx:
        await _check_keys(tx, keys, path="levels", principal=principal)
        levels = await tx.inventory.levels_for_update(keys)
        result, changed = [], []
        for i, s in enumerate(snapshot):
            level = levels[(s.sku, s.location)]
            before = level.safety_stock
            delta = inventory.apply_snapshot(level, on_hand=s.on_hand,
                                             safety_stock=s.safety_stock,
                                             field=["levels", str(i), "onHand"])
            result.append(level)
            if delta or level.safety_stock != before:  # a level already as counted: no news
                changed.append((level, delta))
        if changed:
            await tx.inventory.save_levels([lv for lv, _ in changed])
            await tx.inventory.append_ledger(
                [LedgerEntry(lv.sku, lv.location, d, 0, reason, None, principal.actor, now)
                 for lv, d in changed if d])
            tx.emit(*_level_events(changed, reason=reason, at=now))
        await tx.commit()
    return result


async def adjust_inventory(uow: UnitOfWorkFactory, *, sku: str, location: str, delta: int,
                           reason: str, reference: str | None, principal: Principal,
                           clock: Clock) -> InventoryLevel:
    """Change onHand by a delta (damage, found, returned to vendor…)."""
    access.require(principal, "inventory.write")
    reason = inventory.check_reason(reason, field=["reason"])
    inventory.check_units(delta, what="delta", field=["delta"], allow_negative=True)
    if delta == 0:
        raise errors.InvalidQuantity("delta must not be zero", field=["delta"])
    now = clock.now()
    async with uow() as tx:
        await _check_keys(tx, [(sku, location)], path="", principal=principal)
        level = (await tx.inventory.levels_for_update([(sku, location)]))[(sku, location)]
        inventory.apply_delta(level, delta=delta, field=["delta"])
        await tx.inventory.save_levels([level])
        await tx.inventory.append_ledger(
            [LedgerEntry(sku, location, delta, 0, reason, reference, principal.actor, now)])
        tx.emit(*_level_events([(level, delta)], reason=reason, at=now))
        await tx.commit()
    return level


def _level_events(changed: list[tuple[InventoryLevel, int]], *, reason: str,
                  at: datetime) -> list[events.Event]:
    return [events.inventory_changed(sku=lv.sku, location=lv.location, on_hand=lv.on_hand,
                                     reserved=lv.reserved, safety_stock=lv.safety_stock,
                                     reason=reason, at=at) for lv, _ in changed]


async def expect_incoming(uow: UnitOfWorkFactory, *, sku: str, location: str, quantity: int,
                          expected_at: datetime, reference: str | None, principal: Principal,
                          clock: Clock) -> Incoming:
    """Record an expected receipt (purchase order, transfer, ASN)."""
    access.require(principal, "inventory.write")
    if not 1 <= quantity <= inventory.MAX_UNITS:
        raise errors.InvalidQuantity("quantity must be positive", field=["quantity"])
    incoming = Incoming(str(uuid.uuid4()), sku, location, quantity, 0,
                        dates.within(expected_at, now=clock.now(), field=["expectedAt"]))
    async with uow() as tx:
        await _check_keys(tx, [(sku, location)], path="", principal=principal)
        await tx.inventory.add_incoming(incoming)
        tx.emit(events.Event("INCOMING_EXPECTED", clock.now(), (events.INVENTORY_STREAM,),
                             {"sku": sku, "location": location, "quantity": quantity,
                              "expectedAt": expected_at.isoformat(), "reference": reference}))
        await tx.commit()
    return incoming
