"""VAT by rate, from tax-inclusive amounts.

Consumer prices in the EU include VAT, so a document starts from gross (tax-inclusive)
amounts and works out the tax in them. The rounding rule, chosen so that nothing has to be
"adjusted" afterwards:

1. Lines are grouped by rate and their gross amounts added exactly (each is already in cents).
2. Per rate, VAT = gross × rate / (1 + rate), rounded half-up to the cent, once — on the
   rate's total, not per line (as EU invoices state VAT per rate, and as Italian invoices must:
   "imposta" per "aliquota" on the summed "imponibile").
3. Per rate, net = gross − VAT, so net + VAT = gross exactly.
4. The document's totals are the sums of the per-rate figures, so the gross total is the sum
   of the lines' gross amounts — what was captured or refunded — to the cent.

Rounding once per rate keeps each rate's VAT within half a cent of the exact figure; rounding
per line and adding would drift by up to half a cent per line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.kernel.money import CENT

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class VatLine:
    """One rate's share of a document: net + vat == gross, exactly."""

    rate: Decimal  # a fraction: Decimal("0.22") for 22 %
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """A document's totals: the sums of its per-rate lines."""

    net: Decimal
    vat: Decimal
    gross: Decimal


def check_rate(rate: Decimal) -> Decimal:
    """A VAT rate as a fraction in [0, 1); 22 (a percentage by mistake) is refused."""
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise ValueError(f"VAT rate {rate} must be a fraction in [0, 1), e.g. 0.22")
    return rate


def check_cents(amount: Decimal, *, what: str) -> Decimal:
    """An amount of money as documents carry it: finite, not negative, in whole cents."""
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"{what} {amount} must be a non-negative amount in whole cents")
    return amount


def vat_in(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT contained in a tax-inclusive amount, rounded half-up to the cent."""
    return (gross * rate / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def breakdown(amounts: Iterable[tuple[Decimal, Decimal]]) -> tuple[VatLine, ...]:
    """Net, VAT and gross per rate for (gross amount, rate) pairs, highest rate first."""
    gross_by_rate: dict[Decimal, Decimal] = {}
    for gross, rate in amounts:
        check_cents(gross, what="gross amount")
        # 0.22 and 0.220 are one rate: key on the normalised value
        key = check_rate(rate).normalize()
        gross_by_rate[key] = gross_by_rate.get(key, ZERO) + gross
    lines = []
    for rate in sorted(gross_by_rate, reverse=True):
        gross = gross_by_rate[rate].quantize(CENT)
        vat = vat_in(gross, rate)
        lines.append(VatLine(rate=rate, net=gross - vat, vat=vat, gross=gross))
    return tuple(lines)


def totals(lines: Iterable[VatLine]) -> Totals:
    """The sums of per-rate lines: a document's net, VAT and gross totals."""
    net = vat = gross = ZERO
    for line in lines:
        net, vat, gross = net + line.net, vat + line.vat, gross + line.gross
    return Totals(net=net, vat=vat, gross=gross)


def percent(rate: Decimal) -> str:
    """`22%` for 0.22, `5.5%` for 0.055, `0%` for 0: how a rate is printed."""
    value = (rate * 100).normalize()
    return f"{value:f}%"
