"""What a return gives back: the share of what was paid, never more than was paid.

A line's share is what it was charged (`Order.charged`): where tax was added on top of the
prices, its list price with its own rate's tax; otherwise the order's total spread over the
list prices, `unit price × units × total / (subtotal + shipping)`. Shares are computed
cumulatively per line — the units returned before and these together, minus the units
before — so two partial returns of one line add up to exactly what the whole line paid, to
the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.kernel import errors
from domain.kernel.money import CENT, Money
from domain.orders import Order, OrderLine

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Part:
    """Units of one order line coming back, after `before` units of it came back already."""

    line: OrderLine
    units: int
    before: int = 0


@dataclass(frozen=True, slots=True)
class Quote:
    """A return's refund: items and (maybe) original shipping, less a customer-paid label,
    capped by what is left of the order's total. `tax` is the part of it that is tax."""

    items: Money
    shipping: Money
    fee: Money
    tax: Money
    total: Money
    lines: tuple[Money, ...]  # per part, in the parts' order


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def paid_for(order: Order, list_amount: Decimal, line: OrderLine | None = None) -> Decimal:
    """What the customer paid for something listed at `list_amount` on this order: of
    `line`, or of the shipping (None) — `Order.charged`, to the cent."""
    return _round(order.charged(list_amount, line))


def tax_in(order: Order, list_amount: Decimal, line: OrderLine | None = None) -> Decimal:
    """The tax in what `paid_for` says: where it was added, what it added; where prices
    include it, the order's tax spread over its list prices."""
    if order.tax_added:
        return paid_for(order, list_amount, line) - _round(list_amount)
    base = order.subtotal.amount + order.shipping.amount
    return _round(list_amount * order.tax.amount / base) if base else ZERO


def line_share(order: Order, part: Part) -> Decimal:
    """What `part.units` units of the line paid, after `part.before` already came back."""
    price = part.line.unit_price.amount
    return (paid_for(order, price * (part.before + part.units), part.line)
            - paid_for(order, price * part.before, part.line))


def quote(order: Order, parts: list[Part], *, refund_shipping: bool, fee: Decimal,
          already: Decimal) -> Quote:
    """The refund for `parts`; `refund_shipping` when the original delivery charge comes back
    with it; `already` is what other returns of the order refund or will refund."""
    currency = order.currency
    shares = [line_share(order, p) for p in parts]
    items = sum(shares, ZERO)
    tax = sum((tax_in(order, p.line.unit_price.amount * (p.before + p.units), p.line)
               - tax_in(order, p.line.unit_price.amount * p.before, p.line) for p in parts),
              ZERO)
    shipping = paid_for(order, order.shipping.amount) if refund_shipping else ZERO
    if refund_shipping:
        tax += tax_in(order, order.shipping.amount)
    left = max(ZERO, order.total.amount - already)
    total = min(max(ZERO, items + shipping - fee), left)
    return Quote(Money(items, currency), Money(shipping, currency), Money(fee, currency),
                 Money(min(tax, total), currency), Money(total, currency),
                 tuple(Money(s, currency) for s in shares))


def check_cap(order: Order, amount: Decimal, *, refunded: Decimal) -> None:
    """Refuse a refund that would take the order's refunds past what it paid."""
    if amount < 0:
        raise errors.InvalidInput("a refund amount cannot be negative", field=["amount"])
    paid = order.total.amount
    if order.payment is not None:  # what the provider actually took, not what was ordered
        paid = order.payment.captured
        if paid <= 0:
            raise errors.NothingCaptured(
                f"nothing was charged for order {order.number} yet ({order.payment.provider}): "
                "there is nothing to refund", field=["returnNumber"])
    if refunded + amount > paid:
        left = max(ZERO, paid - refunded)
        raise errors.RefundExceedsPaid(
            f"order {order.number} paid {paid} {order.currency} and "
            f"{refunded} is refunded already: at most {left} more can be refunded",
            field=["amount"])
