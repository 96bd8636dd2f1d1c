"""What customer service needs: the order aggregate locked and its stock released."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.fulfillment.ports import StockTransaction
from domain.orders.ports import OrderRepository


class UnitOfWork(StockTransaction, Protocol):
    @property
    def orders(self) -> OrderRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
