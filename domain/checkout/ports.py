"""What placing an order needs: the snapshot and order reads, and one transaction that claims
the idempotency key, reserves stock, receipts and capacity, and records the order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.inventory.ports import InventoryRepository
from domain.kernel.ports import IdempotencyRepository, Transaction
from domain.orders import Order
from domain.orders.ports import OrderRepository
from domain.sourcing.ports import SnapshotReader, SourcingRepository


class Reader(SnapshotReader, Protocol):
    async def order_by_id(self, order_id: str) -> Order | None: ...


class UnitOfWork(Transaction, Protocol):
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def inventory(self) -> InventoryRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def sourcing(self) -> SourcingRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
