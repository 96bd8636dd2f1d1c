"""What returns need: returns stored beside their order, the reads a request is checked
against, and the payment provider money goes back through."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.catalog.ports import CatalogReader
from domain.checkout.ports import UnitOfWork as CheckoutUnitOfWork
from domain.documents.services import UnitOfWork as DocumentsUnitOfWork
from domain.kernel.money import Money
from domain.orders.ports import OrderReader
from domain.returns import Return
from domain.returns.status import ReturnStatus
from domain.sourcing.ports import SnapshotReader


class ReturnRepository(Protocol):
    async def for_order(self, order_id: str) -> list[Return]:
        """The order's returns with their lines and refunds (lock the order first)."""

    async def order_number_of(self, return_number: str) -> str | None: ...
    async def add(self, ret: Return) -> None: ...

    async def save(self, ret: Return) -> None:
        """Write the return's status, its lines' conditions and refunds not yet written."""


@dataclass(frozen=True, slots=True)
class PaymentReceipt:
    reference: str
    provider: str


class PaymentGateway(Protocol):
    """Where money goes back to the customer. The same `idempotency_key` twice refunds once
    and answers with the same receipt (a retried transaction must not pay twice)."""

    async def refund(self, *, order_number: str, amount: Money, idempotency_key: str,
                     store_credit: bool) -> PaymentReceipt: ...


class Reader(CatalogReader, OrderReader, SnapshotReader, Protocol):
    async def returns_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Return]]:
        """Every return of these orders, by order id."""

    async def completable_orders(self, delivered_before: Mapping[str, datetime], *,
                                 open_returns: Collection[ReturnStatus], limit: int
                                 ) -> list[str]:
        """Ids of DELIVERED orders of each channel of `delivered_before` whose every delivered
        fulfillment arrived before that channel's time (one without a delivery time counts
        from the order's placement), with no return in `open_returns`; the oldest last
        delivery first (then by id), at most `limit`."""


class UnitOfWork(CheckoutUnitOfWork, DocumentsUnitOfWork, Protocol):
    """An exchange places its replacement order in the same transaction as the return; a
    refund's credit note is numbered in the transaction that records the refund."""

    @property
    def returns(self) -> ReturnRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
