"""What work on fulfillments needs: the order aggregate locked, stock moved, and — to
re-source — the snapshot, decisions and capacity of sourcing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.catalog.ports import CatalogRepository
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


class Reader(OrderReader, SnapshotReader, Protocol):
    """Re-sourcing reads the order and a fresh snapshot without a lock."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
