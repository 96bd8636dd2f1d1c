"""Domain errors: each names a condition and carries a stable code and the offending field."""

from __future__ import annotations


class DomainError(Exception):
    """A business refusal. `code` is stable API; `field` points into the input."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class UnknownSku(DomainError):
    code = "UNKNOWN_SKU"


class UnknownLocation(DomainError):
    code = "UNKNOWN_LOCATION"


class UnknownChannel(DomainError):
    code = "UNKNOWN_CHANNEL"


class InvalidQuantity(DomainError):
    code = "INVALID_QUANTITY"


class InvalidAddress(DomainError):
    code = "INVALID_ADDRESS"


class UnsupportedCurrency(DomainError):
    code = "UNSUPPORTED_CURRENCY"


class CartTooLarge(DomainError):
    code = "CART_TOO_LARGE"


class InvalidPickupLocation(DomainError):
    code = "INVALID_PICKUP_LOCATION"


class InsufficientStock(DomainError):
    code = "INSUFFICIENT_STOCK"

    def __init__(self, message: str, *, field: list[str] | None = None,
                 skus: tuple[str, ...] = ()) -> None:
        super().__init__(message, field=field)
        self.skus = skus


class NegativeInventory(DomainError):
    code = "NEGATIVE_INVENTORY"


class IdempotencyKeyMismatch(DomainError):
    code = "IDEMPOTENCY_KEY_MISMATCH"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    """A write raced with another and could not be completed after retries."""

    code = "CONFLICT"


class ResyncRequired(DomainError):
    """A subscriber asked to resume where the events it missed are no longer all kept."""

    code = "RESYNC_REQUIRED"
