"""Applying the stock moves of lifecycle changes: conditional updates, ledger, events."""

from __future__ import annotations

from datetime import datetime

from domain import errors, events
from domain.fulfilling import StockMove
from domain.inventory import InventoryLevel, LedgerEntry
from domain.ports import UnitOfWork


async def apply_moves(tx: UnitOfWork, moves: list[StockMove], *, reference: str, actor: str,
                      at: datetime) -> list[InventoryLevel]:
    """One conditional update and one ledger row per (sku, location, reason), both deltas
    together; refused whole if any level would leave its invariants (nothing is written)."""
    merged: dict[tuple[str, str, str], list[int]] = {}
    for m in moves:
        deltas = merged.setdefault((m.sku, m.location, m.reason), [0, 0])
        deltas[0] += m.on_hand
        deltas[1] += m.reserved
    changes = {(sku, loc, reason): d for (sku, loc, reason), d in merged.items() if any(d)}
    if not changes:
        return []
    totals: dict[tuple[str, str], list[int]] = {}
    for (sku, loc, _), (on_hand, reserved) in changes.items():
        total = totals.setdefault((sku, loc), [0, 0])
        total[0] += on_hand
        total[1] += reserved
    levels = await tx.inventory.move([(sku, loc, d[0], d[1]) for (sku, loc), d in totals.items()])
    if levels is None:
        # the books disagree with the orders (reserved below what open work holds): refuse
        # rather than drive a level negative; nothing of this change is kept
        raise errors.Conflict("stock levels do not match this order's reservations; "
                              "nothing was changed")
    await tx.inventory.append_ledger([
        LedgerEntry(sku, loc, on_hand, reserved, reason, reference, actor, at)
        for (sku, loc, reason), (on_hand, reserved) in sorted(changes.items())])
    reasons = {(sku, loc): reason for (sku, loc, reason) in changes}
    tx.emit(*(events.inventory_changed(
        sku=lv.sku, location=lv.location, on_hand=lv.on_hand, reserved=lv.reserved,
        safety_stock=lv.safety_stock, reason=reasons[(lv.sku, lv.location)], at=at)
        for lv in levels))
    return levels
