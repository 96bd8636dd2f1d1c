"""What payments need: the providers money is held, taken and given back through, and the
orders they are about."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.documents.services import UnitOfWork as DocumentsUnitOfWork
from domain.kernel.money import Money
from domain.kernel.ports import Transaction
from domain.orders.ports import OrderReader, OrderRepository


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a provider holds for an order: the amount still capturable, until when, and
    whether it may be captured in parts (one capture per parcel) or only once."""

    amount: Money
    expires_at: datetime | None
    partial: bool = True


class PaymentProvider(Protocol):
    """One payment service (Stripe, the built-in `test` and `offline` ones).

    Every call that moves money carries an idempotency key derived from what it is about (the
    fulfillment a capture is for, the refund's claim): the same key twice moves money once and
    answers alike. A refusal that asking again cannot change raises `errors.PaymentDeclined`;
    one that may pass later (timeouts, 5xx, rate limits) `errors.PaymentProviderUnavailable`.
    Never called with a database transaction open.
    """

    name: str

    async def authorization(self, reference: str, *, expected: Money) -> Authorization:
        """The money `reference` holds, if it may still be captured (`expected`: the order's
        total, which the `test` provider authorises when no amount was sent)."""

    async def capture(self, reference: str, amount: Money, *, final: bool,
                      idempotency_key: str) -> str:
        """Take `amount` of the authorisation; `final` releases what is left. Answers the
        provider's reference of the capture."""

    async def void(self, reference: str, *, idempotency_key: str) -> str:
        """Release what is left of the authorisation (nothing more will be captured)."""

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> str:
        """Give back `amount` of what was captured."""


class Providers(Protocol):
    def get(self, name: str) -> PaymentProvider | None:
        """The provider called `name`, if this deployment has it."""


class UnitOfWork(Transaction, DocumentsUnitOfWork, Protocol):
    """A capture's invoice is numbered in the transaction that records the capture."""

    @property
    def orders(self) -> OrderRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class Reader(OrderReader, Protocol):
    async def lapsed_authorizations(self, *, now: datetime, limit: int) -> list[str]:
        """Ids of orders with work still to ship whose authorisation expired before `now`,
        not on hold and not flagged for it yet; at most `limit`."""
