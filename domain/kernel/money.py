"""Money as Decimal amount + ISO 4217 currency, rounded half-up to cents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.kernel import errors

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("100000000")


def to_amount(value: str | Decimal | int, *, field: list[str] | None = None) -> Decimal:
    """Parse a money amount: finite, non-negative, at most two decimals after rounding."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise errors.InvalidInput(f"{value!r} is not a decimal amount", field=field) from None
    # the range first: quantizing 1e9999 to cents exceeds Decimal's precision and raises
    if not amount.is_finite() or not -MAX_AMOUNT < amount < MAX_AMOUNT:
        raise errors.InvalidInput(f"{value!r} is not a valid amount", field=field)
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0 or amount >= MAX_AMOUNT:
        raise errors.InvalidInput(f"{value!r} is not a valid amount", field=field)
    return abs(amount)  # no "-0.00"


def check_currency(code: str, *, field: list[str] | None = None) -> str:
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise errors.InvalidInput(f"{code!r} is not an ISO 4217 currency code", field=field)
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money((self.amount * quantity).quantize(CENT, rounding=ROUND_HALF_UP), self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)
