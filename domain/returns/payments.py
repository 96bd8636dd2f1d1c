"""A payment provider that only records what it was asked: the default and the tests' fake."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from domain.kernel.money import Money
from domain.returns.ports import PaymentReceipt


@dataclass(frozen=True, slots=True)
class RecordedRefund:
    order_number: str
    amount: Money
    idempotency_key: str
    store_credit: bool
    receipt: PaymentReceipt


@dataclass
class RecordingPayments:
    """Answers every refund with a stable reference; the same key is refunded once."""

    provider: str = "recording"
    refunds: list[RecordedRefund] = field(default_factory=list)

    async def refund(self, *, order_number: str, amount: Money, idempotency_key: str,
                     store_credit: bool) -> PaymentReceipt:
        for done in self.refunds:
            if done.idempotency_key == idempotency_key:
                return done.receipt
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16].upper()
        kind = "SC" if store_credit else "RF"
        receipt = PaymentReceipt(f"{kind}-{digest}", "store_credit" if store_credit
                                 else self.provider)
        self.refunds.append(RecordedRefund(order_number, amount, idempotency_key,
                                           store_credit, receipt))
        return receipt
