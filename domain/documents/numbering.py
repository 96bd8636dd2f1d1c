"""Invoice and credit-note numbers: `<country>-<year>-<6 digits>`, e.g. `IT-2026-000123`.

A series is the selling country and the year of issue; numbers run from 000001 without gaps
within a series. Handing out the next number is the store's job (a counter row per series,
incremented in the same transaction as the capture or refund, so a rolled-back capture
leaves no hole and two captures never share a number); this module only says what a number
looks like and reads one back. Invoices and credit notes may share a series' counter: the
document's kind, not its number, tells them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MAX_NUMBER = 999_999  # six digits: a series that needs more is a format change, not a wrap
NUMBER_RE = re.compile(r"^(?P<country>[A-Z]{2})-(?P<year>[0-9]{4})-(?P<sequence>[0-9]{6})$")


class InvalidNumber(ValueError):
    """Text that is not a document number, or a sequence outside 1…999999."""


@dataclass(frozen=True, slots=True, order=True)
class Series:
    country: str  # ISO 3166-1 alpha-2 of the selling country, upper case
    year: int

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not (self.country.isascii() and self.country.isalpha()
                                          and self.country.isupper()):
            raise InvalidNumber(f"series country {self.country!r} must be two capital letters")
        if not 1000 <= self.year <= 9999:
            raise InvalidNumber(f"series year {self.year} must have four digits")

    @property
    def key(self) -> str:
        """`IT-2026`: the counter row's key."""
        return f"{self.country}-{self.year:04d}"


def series_for(country: str, issued_on: date) -> Series:
    """The series a document issued on that (local) day in that selling country belongs to.

    The caller passes the date in the seller's time zone: an invoice issued at 00:30 on
    1 January in Rome belongs to the new year even though it is still 31 December in UTC.
    """
    return Series(country.upper(), issued_on.year)


def format_number(series: Series, sequence: int) -> str:
    """`IT-2026-000123` for the 123rd document of series IT-2026."""
    if not 1 <= sequence <= MAX_NUMBER:
        raise InvalidNumber(f"sequence {sequence} is outside 1…{MAX_NUMBER} "
                            f"(series {series.key} is full)")
    return f"{series.key}-{sequence:06d}"


def parse_number(text: str) -> tuple[Series, int]:
    """The series and sequence of a number; strict: no spaces, no lower case, no 000000."""
    found = NUMBER_RE.fullmatch(text)  # not match: "$" would let a trailing "\n" in
    if found is None:
        raise InvalidNumber(f"{text!r} is not a document number like IT-2026-000123")
    sequence = int(found["sequence"])
    if sequence == 0:
        raise InvalidNumber(f"{text!r}: sequences start at 000001")
    return Series(found["country"], int(found["year"])), sequence
