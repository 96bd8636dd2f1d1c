"""Tax by destination country and rate class: a rate table, prices tax-inclusive where
consumers expect it.

A SKU has a tax class (`TaxClass`: food, books and medicines are taxed at reduced rates in
the EU); the rate a line is taxed at is its class's rate in the country the goods go to (EU
distance sales to consumers are taxed where they arrive). A country without a separate rate
for a class uses the nearest one it has (Germany has one reduced rate: 7 % for every reduced
class). Shipping is taxed at the highest rate among the goods it carries — the conservative
reading of "ancillary costs follow the principal supply": it never declares less VAT than due.

Rates as of 2026 (European Commission, "VAT rates applied in the Member States"); Italy's are
22 % standard, 10 % reduced, 5 % second reduced and 4 % super-reduced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.kernel.money import CENT


class TaxClass(StrEnum):
    STANDARD = "STANDARD"
    REDUCED = "REDUCED"  # Italy 10 %: most food, hotels, some building work
    SECOND_REDUCED = "SECOND_REDUCED"  # Italy 5 %: some food, feminine hygiene, social services
    SUPER_REDUCED = "SUPER_REDUCED"  # Italy 4 %: bread, milk, books, newspapers
    ZERO = "ZERO"  # exempt or zero-rated


@dataclass(frozen=True, slots=True)
class TaxRate:
    rate: Decimal  # the standard rate
    inclusive: bool  # EU consumer prices include VAT; US prices do not include sales tax
    reduced: Decimal | None = None  # None: the country has no such rate (taxed at standard)
    second: Decimal | None = None  # None: as `reduced`
    super_reduced: Decimal | None = None  # None: as `second`

    def of(self, tax_class: TaxClass) -> Decimal:
        """The rate of a class here, falling back to the nearest rate the country has."""
        reduced = self.rate if self.reduced is None else self.reduced
        second = reduced if self.second is None else self.second
        match tax_class:
            case TaxClass.STANDARD:
                return self.rate
            case TaxClass.REDUCED:
                return reduced
            case TaxClass.SECOND_REDUCED:
                return second
            case TaxClass.SUPER_REDUCED:
                return second if self.super_reduced is None else self.super_reduced
            case TaxClass.ZERO:
                return Decimal("0")


def _eu(standard: str, *reduced: str) -> TaxRate:
    """An EU-style (tax-inclusive) country's rates: standard, then its reduced ones in class
    order (reduced, second reduced, super-reduced), as many as it has."""
    rates = [Decimal(r) for r in reduced] + [None] * (3 - len(reduced))
    return TaxRate(Decimal(standard), True, *rates)


RATES: dict[str, TaxRate] = {
    "IT": _eu("0.22", "0.10", "0.05", "0.04"),
    "DE": _eu("0.19", "0.07"),
    "FR": _eu("0.20", "0.10", "0.055", "0.021"),
    "ES": _eu("0.21", "0.10", "0.10", "0.04"),
    "AT": _eu("0.20", "0.10", "0.13", "0.10"),
    "NL": _eu("0.21", "0.09"),
    "BE": _eu("0.21", "0.06", "0.12", "0.06"),
    "PT": _eu("0.23", "0.06", "0.13", "0.06"),
    "IE": _eu("0.23", "0.135", "0.09", "0.048"),
    "GR": _eu("0.24", "0.13", "0.06", "0.06"),
    "SE": _eu("0.25", "0.12", "0.06", "0.06"),
    "DK": _eu("0.25"),
    "PL": _eu("0.23", "0.08", "0.05", "0.05"),
    "GB": _eu("0.20", "0.05"),
    "CH": TaxRate(Decimal("0.081"), False, Decimal("0.026"), Decimal("0.038"), Decimal("0.026")),
    "US": TaxRate(Decimal("0"), False),
}
NO_TAX = TaxRate(Decimal("0"), False)


def rate_for(country: str, tax_class: TaxClass = TaxClass.STANDARD) -> Decimal:
    """The rate goods of `tax_class` are taxed at when they go to `country`."""
    return RATES.get(country, NO_TAX).of(tax_class)


def shipping_rate(line_rates: Iterable[Decimal], country: str) -> Decimal:
    """Shipping's rate: the highest of the goods' (the country's standard with no goods)."""
    return max(line_rates, default=rate_for(country))


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_by_rate(country: str, amounts: Iterable[tuple[Decimal, Decimal]]
                ) -> tuple[Decimal, Decimal]:
    """(tax, amount to add to the prices) for (amount, rate) pairs shipped to `country`: the
    amounts are added per rate and each rate's tax rounded once (as invoices state it)."""
    if RATES.get(country, NO_TAX).inclusive:
        by_rate = _by_rate(amounts)
        tax = sum((_round(a * r / (1 + r)) for r, a in by_rate.items()), Decimal("0.00"))
        return tax, Decimal("0.00")
    tax = added_by_rate(amounts)
    return tax, tax


def added_by_rate(amounts: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """The tax added on top of (amount, rate) pairs: added per rate, each rate's tax rounded
    once."""
    return sum((_round(a * r) for r, a in _by_rate(amounts).items()), Decimal("0.00"))


def _by_rate(amounts: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    by_rate: dict[Decimal, Decimal] = {}
    for amount, rate in amounts:
        key = rate.normalize()
        by_rate[key] = by_rate.get(key, Decimal("0")) + amount
    return by_rate


def tax_for(country: str, taxable: Decimal) -> tuple[Decimal, Decimal]:
    """Return (tax, amount to add to the price) for a taxable amount at the standard rate."""
    return tax_by_rate(country, [(taxable, rate_for(country))])
