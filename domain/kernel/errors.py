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


class IllegalTransition(DomainError):
    """A status change (or an edit) the current status does not allow; nothing changed."""

    code = "INVALID_TRANSITION"

    def __init__(self, subject: str, *, current: str, allowed: tuple[str, ...] | list[str],
                 target: str | None = None, why: str | None = None,
                 field: list[str] | None = None) -> None:
        wanted = f" cannot become {target}" if target else " cannot be changed this way"
        next_ = ", ".join(allowed) if allowed else "none"
        message = f"{subject} is {current}:{wanted}" + (f" ({why})" if why else "")
        super().__init__(f"{message}; allowed next: {next_}", field=field)
        self.current = current
        self.allowed = tuple(allowed)
        self.target = target


class PickupCodeMismatch(DomainError):
    """The code said at the counter is not the order's pickup code; nothing changed."""

    code = "PICKUP_CODE_MISMATCH"


class ScanInFuture(DomainError):
    """A carrier scan dated later than the server's clock allows (beyond a small skew)."""

    code = "SCAN_IN_FUTURE"


class CancellationWindowClosed(DomainError):
    """A customer may cancel only shortly after ordering, and before work has started."""

    code = "CANCELLATION_WINDOW_CLOSED"


class LocationCannotSupply(DomainError):
    """An agent asked to move work to a location that cannot take all of it now."""

    code = "LOCATION_CANNOT_SUPPLY"


class PaymentDeclined(DomainError):
    """The payment provider refused: the authorisation is not usable (at checkout), or a
    capture, void or refund was refused for good; nothing moved."""

    code = "PAYMENT_DECLINED"


class PaymentProviderUnavailable(DomainError):
    """The provider could not be asked (timeout, outage, rate limit): nothing changed here;
    asking again may succeed."""

    code = "PAYMENT_PROVIDER_UNAVAILABLE"


class PaymentAmountTooLow(DomainError):
    """The authorisation holds less than the order's total."""

    code = "PAYMENT_AMOUNT_TOO_LOW"


class PaymentAlreadyUsed(DomainError):
    """The authorisation already pays for another order."""

    code = "PAYMENT_ALREADY_USED"


class PaymentRequired(DomainError):
    """The channel takes orders only with a payment."""

    code = "PAYMENT_REQUIRED"


class NothingCaptured(DomainError):
    """No money was taken for the order yet (e.g. cash on delivery not yet collected), so
    there is nothing to give back."""

    code = "NOTHING_CAPTURED"


class SourcingConstraints(DomainError):
    """Stock exists, but no plan satisfies the sourcing policy (split limit, ship together)."""

    code = "SOURCING_CONSTRAINTS"


class PromiseInvalid(DomainError):
    code = "PROMISE_INVALID"


class PromiseExpired(DomainError):
    code = "PROMISE_EXPIRED"


class PromiseMismatch(DomainError):
    """The promise option was made for another cart, destination or delivery method."""

    code = "PROMISE_MISMATCH"


class PromiseNoLongerAvailable(DomainError):
    code = "PROMISE_NO_LONGER_AVAILABLE"
class ResyncRequired(DomainError):
    """A subscriber asked to resume where the events it missed are no longer all kept."""

    code = "RESYNC_REQUIRED"


class OrderNotDelivered(DomainError):
    """Only delivered units can come back."""

    code = "ORDER_NOT_DELIVERED"


class NotReturnable(DomainError):
    """The return policy never takes this item back (e.g. hazardous, personalised)."""

    code = "NOT_RETURNABLE"


class ReturnWindowClosed(DomainError):
    code = "RETURN_WINDOW_CLOSED"


class QuantityExceedsReturnable(DomainError):
    """More units than were delivered and are not already returned or in a return."""

    code = "QUANTITY_EXCEEDS_RETURNABLE"


class ResolutionNotAllowed(DomainError):
    code = "RESOLUTION_NOT_ALLOWED"


class ReturnMethodNotAllowed(DomainError):
    code = "RETURN_METHOD_NOT_ALLOWED"


class ExchangeNotEven(DomainError):
    """An exchange swaps for an item of the same price; anything else is a new order."""

    code = "EXCHANGE_NOT_EVEN"


class NoReturnLocation(DomainError):
    """No location takes these items back by this method."""

    code = "NO_RETURN_LOCATION"


class RefundExceedsPaid(DomainError):
    code = "REFUND_EXCEEDS_PAID"
