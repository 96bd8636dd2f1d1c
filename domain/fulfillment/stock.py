"""Applying the stock moves of lifecycle changes: conditional updates, ledger, events."""

from __future__ import annotations

from datetime import datetime

from domain.fulfillment.fulfilling import StockMove
from domain.fulfillment.ports import StockTransaction
from domain.inventory import InventoryLevel, LedgerEntry
from domain.kernel import errors, events


async def apply_moves(tx: StockTransaction, moves: list[StockMove], *, reference: str, actor: str,
                      at: datetime) -> list[InventoryLevel]:
    """One conditional update and one ledger row per (sku, location, reason), both deltas
    together; refused whole if any level would leave its invariants (nothing is written)."""
    levels = await try_moves(tx, moves, reference=reference, actor=actor, at=at)
    if levels is None:
        # the books disagree with the orders (reserved below what open work holds): refuse
        # rather than drive a level negative; nothing of this change is kept
        raise errors.Conflict("stock levels do not match this order's reservations; "
                              "nothing was changed")
    return levels


async def try_moves(tx: StockTransaction, moves: list[StockMove], *, reference: str, actor: str,
                    at: datetime) -> list[InventoryLevel] | None:
    """`apply_moves`, but None (and no ledger row) when a level would leave its invariants,
    e.g. stock to reserve was taken meanwhile; the caller must then not commit."""
    merged: dict[tuple[str, str, str], tuple[int, int]] = {}
    for m in moves:
        on_hand, reserved = merged.get((m.sku, m.location, m.reason), (0, 0))
        merged[(m.sku, m.location, m.reason)] = (on_hand + m.on_hand, reserved + m.reserved)
    changes = sorted((key, d) for key, d in merged.items() if any(d))
    if not changes:
        return []
    levels = await tx.inventory.move([(sku, loc, *d) for (sku, loc, _), d in changes])
    if levels is None:
        return None
    await tx.inventory.append_ledger([
        LedgerEntry(sku, loc, on_hand, reserved, reason, reference, actor, at)
        for (sku, loc, reason), (on_hand, reserved) in changes])
    tx.emit(*(events.inventory_changed(
        sku=lv.sku, location=lv.location, on_hand=lv.on_hand, reserved=lv.reserved,
        safety_stock=lv.safety_stock, reason=reason, at=at)
        for lv, ((_, _, reason), _) in zip(levels, changes, strict=True)))
    return levels
