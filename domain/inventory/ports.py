"""What inventory needs stored — and the reservation guard, the rule that nothing oversells.

**No oversell** (SPEC §3, invariant 1) is a contract of `InventoryRepository.reserve`: it
reserves n units of a SKU at a location only if, at that moment, on hand − reserved − safety
stock ≥ n — checked and written atomically, with no read-then-write window another
transaction could slip into — and for a list of wants, all or none. Every store implementation
must hold it under concurrency: the SQL store does it with one conditional UPDATE per line
(`persistence/inventory.py`, plus a CHECK constraint as the last line of defence), the
in-memory store with one check-and-write between awaits (`tests/stores/memory.py`), and
`tests/stores/test_store_contract.py` runs the same races against both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.catalog.ports import CatalogRepository
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.kernel.ports import Transaction

LevelKey = tuple[str, str]  # (sku, location)
Want = tuple[str, str, int]  # (sku, location, units)
Change = tuple[str, str, int, int]  # (sku, location, onHand delta, reserved delta)


class InventoryRepository(Protocol):
    async def levels_for_update(self, keys: list[LevelKey]) -> dict[LevelKey, InventoryLevel]:
        """Lock and return levels; keys without a row come back as zero levels."""

    async def save_levels(self, levels: list[InventoryLevel]) -> None: ...

    async def reserve(self, wants: list[Want]) -> list[InventoryLevel] | None:
        """The reservation guard (no oversell): reserve each (sku, location, units) only if
        on hand − reserved − safety stock ≥ units at that instant, atomically per line and all
        or nothing for the list. Returns the levels after, or None (nothing reserved) when any
        line would oversell — the caller lost a race and plans again on fresh stock."""

    async def move(self, changes: list[Change]) -> list[InventoryLevel] | None:
        """Apply (sku, location, onHand delta, reserved delta) where the level stays valid
        (nothing negative, on hand − reserved − safety stock ≥ 0); all or nothing: None leaves
        every level as it was (a zero level may have been created for a key that had none)."""

    async def release(self, wants: list[Want]) -> list[InventoryLevel] | None:
        """Give back reserved units per (sku, location, units); all or nothing (None)."""

    async def append_ledger(self, entries: list[LedgerEntry]) -> None: ...
    async def add_incoming(self, incoming: Incoming) -> None: ...

    async def allocate_incoming(self, incoming_id: str, units: int) -> bool:
        """Promise `units` of an expected receipt to a backorder, only if that many are
        still unpromised (the receipt's own no-oversell guard)."""

    async def incoming(self, incoming_id: str) -> Incoming | None: ...

    async def receive_incoming(self, incoming_id: str, quantity: int) -> bool:
        """Mark a receipt received, once; False when it already was."""

    async def release_incoming(self, incoming_id: str, units: int) -> bool: ...


class UnitOfWork(Transaction, Protocol):
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def inventory(self) -> InventoryRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
