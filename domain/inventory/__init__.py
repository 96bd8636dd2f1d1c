"""Inventory levels, the ledger that explains them, and expected receipts.

The inventory context: levels and the reservation guard that keeps them from overselling
(`ports`), the ledger, expected receipts, bulk files, availability; its use cases set, adjust
and import stock.

May use: kernel, access, catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.kernel import errors

MAX_UNITS = 10_000_000
REASON_MAX = 64


@dataclass(slots=True)
class InventoryLevel:
    sku: str
    location: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change of onHand and/or reserved; the level is always the sum of its entries."""

    sku: str
    location: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    reference: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Incoming:
    id: str
    sku: str
    location: str
    quantity: int
    allocated: int
    expected_at: datetime
    received_at: datetime | None = None
    received_quantity: int | None = None

    @property
    def unallocated(self) -> int:
        return self.quantity - self.allocated


def check_reason(reason: str, *, field: list[str]) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise errors.InvalidInput(f"reason must be 1-{REASON_MAX} characters", field=field)
    return reason


def check_units(value: int, *, what: str, field: list[str], allow_negative: bool = False) -> int:
    low = -MAX_UNITS if allow_negative else 0
    if not low <= value <= MAX_UNITS:
        raise errors.InvalidQuantity(f"{what} must be between {low} and {MAX_UNITS}", field=field)
    return value


def apply_snapshot(level: InventoryLevel, *, on_hand: int, safety_stock: int | None,
                   field: list[str]) -> int:
    """Set a counted onHand (and optionally safety stock); return the onHand delta.

    A count below what is already promised is refused: the reservations must be cancelled or
    re-routed first, so `reserved ≤ onHand − safetyStock` keeps holding.
    """
    new_safety = level.safety_stock if safety_stock is None else safety_stock
    if on_hand - new_safety < level.reserved:
        raise errors.NegativeInventory(
            f"{level.sku} at {level.location}: onHand {on_hand} minus safety stock {new_safety} "
            f"is below the {level.reserved} units reserved for orders", field=field)
    delta = on_hand - level.on_hand
    level.on_hand, level.safety_stock = on_hand, new_safety
    return delta


def apply_delta(level: InventoryLevel, *, delta: int, field: list[str]) -> None:
    """Adjust onHand by a delta; refuse to go negative or below what is reserved."""
    new = level.on_hand + delta
    if new < 0:
        raise errors.NegativeInventory(
            f"{level.sku} at {level.location}: onHand {level.on_hand} cannot go down by "
            f"{-delta}", field=field)
    if delta < 0 and new - level.safety_stock < level.reserved:
        raise errors.NegativeInventory(
            f"{level.sku} at {level.location}: {level.reserved} units are reserved; onHand "
            f"cannot go below {level.reserved + level.safety_stock}", field=field)
    if new > MAX_UNITS:
        raise errors.InvalidQuantity(f"onHand cannot exceed {MAX_UNITS}", field=field)
    level.on_hand = new
