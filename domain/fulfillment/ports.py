"""What work on fulfillments needs: the order aggregate locked, stock moved, and — to
re-source — the snapshot, decisions and capacity of sourcing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.catalog.ports import CatalogReader, CatalogRepository
from domain.inventory.ports import InventoryRepository
from domain.kernel.ports import Transaction
from domain.orders.ports import OrderReader, OrderRepository
from domain.sourcing.ports import SnapshotReader, SourcingRepository


class StockTransaction(Transaction, Protocol):
    """Enough of a transaction to move stock: conditional level updates and the ledger."""

    @property
    def inventory(self) -> InventoryRepository: ...


class UnitOfWork(StockTransaction, Protocol):
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def sourcing(self) -> SourcingRepository: ...


@dataclass(frozen=True, slots=True)
class OfferedWork:
    """A fulfillment offered to its location and not accepted yet."""

    fulfillment_id: str
    order_id: str
    location: str
    created_at: datetime


class Reader(CatalogReader, OrderReader, SnapshotReader, Protocol):
    """Re-sourcing reads the order and a fresh snapshot without a lock."""

    async def unacknowledged_work(self, created_before: Mapping[str, datetime], *,
                                  limit: int) -> list[OfferedWork]:
        """ASSIGNED fulfillments at each location of `created_before` made before its time,
        whose order is not on hold and was not released from a hold at or after that time;
        oldest first (then by id), at most `limit`."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
