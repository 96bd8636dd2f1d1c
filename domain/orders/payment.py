"""An order's payment: the authorisation it was placed with and every movement of money since.

The money itself lives at the provider; this is the order's own record of it, written in the
order's transaction. A movement is claimed (PENDING) before the provider is asked and
recorded (SUCCEEDED, or FAILED with the provider's error) after, so what is claimed counts
against what may still move while the provider is being asked, and a lost answer is resolved
by asking again with the same idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")
OFFLINE = "offline"  # cash on delivery, paid at the counter: taken when the goods are handed over


class PaymentStatus(StrEnum):
    NOT_REQUIRED = "NOT_REQUIRED"
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    CAPTURED = "CAPTURED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"
    FAILED = "FAILED"


class TransactionKind(StrEnum):
    AUTHORIZATION = "AUTHORIZATION"
    CAPTURE = "CAPTURE"
    VOID = "VOID"
    REFUND = "REFUND"


class TransactionStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(slots=True)
class Transaction:
    """One movement of money. `key` is the idempotency key the provider is asked with;
    `final`: a capture after which nothing more is taken (the rest is released)."""

    id: str
    kind: TransactionKind
    amount: Decimal
    status: TransactionStatus
    key: str
    at: datetime
    fulfillment_id: str | None = None
    reference: str | None = None
    error: str | None = None
    final: bool = False
    attempts: int = 0


@dataclass(slots=True)
class Payment:
    provider: str
    reference: str
    authorized: Decimal
    expires_at: datetime | None = None
    transactions: list[Transaction] = field(default_factory=list)
    flagged_at: datetime | None = None  # an agent was told the authorisation lapsed
    partial: bool = True  # the provider captures parcel by parcel; else once, at the end

    def total(self, kind: TransactionKind, *statuses: TransactionStatus) -> Decimal:
        wanted = statuses or (TransactionStatus.SUCCEEDED,)
        return sum((t.amount for t in self.transactions
                    if t.kind is kind and t.status in wanted), ZERO)

    @property
    def captured(self) -> Decimal:
        return self.total(TransactionKind.CAPTURE)

    @property
    def refunded(self) -> Decimal:
        return self.total(TransactionKind.REFUND)

    @property
    def voided(self) -> Decimal:
        return self.total(TransactionKind.VOID)

    @property
    def claimed(self) -> Decimal:
        """Captured, or being captured: what the authorisation no longer has to give."""
        return self.total(TransactionKind.CAPTURE, *TransactionStatus)

    def capture_for(self, fulfillment_id: str) -> Transaction | None:
        return next((t for t in self.transactions if t.kind is TransactionKind.CAPTURE
                     and t.fulfillment_id == fulfillment_id), None)

    def open_move(self, kind: TransactionKind) -> Transaction | None:
        """A claimed movement of this kind not yet succeeded (pending or failed)."""
        return next((t for t in self.transactions if t.kind is kind
                     and t.status is not TransactionStatus.SUCCEEDED), None)

    @property
    def closed(self) -> bool:
        """Nothing more will be captured: a final capture or a void went through."""
        return any(t.status is TransactionStatus.SUCCEEDED and (
            t.kind is TransactionKind.VOID or (t.kind is TransactionKind.CAPTURE and t.final))
            for t in self.transactions)

    @property
    def failing(self) -> Transaction | None:
        """A capture or release the provider refused and that is not through yet."""
        return next((t for t in self.transactions if t.kind in (
            TransactionKind.CAPTURE, TransactionKind.VOID)
            and t.status is TransactionStatus.FAILED), None)

    @property
    def status(self) -> PaymentStatus:
        captured, refunded = self.captured, self.refunded
        if self.failing is not None:
            return PaymentStatus.FAILED
        if refunded > 0:
            return (PaymentStatus.REFUNDED if refunded >= captured
                    else PaymentStatus.PARTIALLY_REFUNDED)
        if captured > 0:
            return PaymentStatus.CAPTURED if self.closed else PaymentStatus.PARTIALLY_CAPTURED
        if self.voided > 0:
            return PaymentStatus.VOIDED
        return PaymentStatus.AUTHORIZED

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now and not self.closed
