"""Tax by destination country: a rate table, prices tax-inclusive where consumers expect it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.kernel.money import CENT


@dataclass(frozen=True, slots=True)
class TaxRate:
    rate: Decimal
    inclusive: bool  # EU consumer prices include VAT; US prices do not include sales tax


RATES: dict[str, TaxRate] = {
    "IT": TaxRate(Decimal("0.22"), True), "DE": TaxRate(Decimal("0.19"), True),
    "FR": TaxRate(Decimal("0.20"), True), "ES": TaxRate(Decimal("0.21"), True),
    "AT": TaxRate(Decimal("0.20"), True), "NL": TaxRate(Decimal("0.21"), True),
    "BE": TaxRate(Decimal("0.21"), True), "PT": TaxRate(Decimal("0.23"), True),
    "IE": TaxRate(Decimal("0.23"), True), "GR": TaxRate(Decimal("0.24"), True),
    "SE": TaxRate(Decimal("0.25"), True), "DK": TaxRate(Decimal("0.25"), True),
    "PL": TaxRate(Decimal("0.23"), True), "GB": TaxRate(Decimal("0.20"), True),
    "CH": TaxRate(Decimal("0.081"), False), "US": TaxRate(Decimal("0"), False),
}
NO_TAX = TaxRate(Decimal("0"), False)


def tax_for(country: str, taxable: Decimal) -> tuple[Decimal, Decimal]:
    """Return (tax, amount to add to the price) for a taxable amount shipped to `country`."""
    rate = RATES.get(country, NO_TAX)
    if rate.inclusive:
        tax = (taxable * rate.rate / (1 + rate.rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return tax, Decimal("0.00")
    tax = (taxable * rate.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return tax, tax
