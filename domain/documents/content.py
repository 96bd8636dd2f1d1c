"""What each document says, as frozen values: built by the caller from an order, a capture,
a refund or a fulfillment, then rendered (api/documents) or attached to a mail.

Amounts are `Decimal` in whole cents of `currency`, tax-inclusive (consumer prices in the EU
include VAT); rates are fractions (0.22). Values are checked when built, so a document that
would print a wrong total cannot exist: an invoice's totals are always its lines' VAT
breakdown (`vat.breakdown`), never a separately stored figure that could disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.catalog import Address
from domain.documents import numbering, vat

SHIPPING_SKU = "SHIPPING"


def code128_printable(number: str) -> bool:
    """Whether a tracking number can be printed as Code 128, which encodes ASCII only."""
    return bool(number.strip()) and number.isascii() and number.isprintable()


def _text(value: str, *, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Someone on a document: the seller, the buyer, a sender or a recipient."""

    name: str
    address_lines: tuple[str, ...]  # street lines, then postal code and city, as printed
    country: str  # ISO 3166-1 alpha-2
    vat_id: str | None = None  # seller's always; a business buyer's when given

    def __post_init__(self) -> None:
        _text(self.name, what="a party's name")
        if len(self.country) != 2 or not self.country.isalpha():
            raise ValueError(f"country {self.country!r} must be an ISO 3166 alpha-2 code")


def party(name: str, address: Address, *, vat_id: str | None = None) -> Party:
    """A party at a catalog address: street lines, then `postal code city (region)`."""
    town = f"{address.postal_code} {address.city}".strip()
    if address.region:
        town = f"{town} ({address.region})"
    lines = tuple(x for x in (address.line1, address.line2, town) if x)
    return Party(name=name, address_lines=lines, country=address.country, vat_id=vat_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingLine:
    """A line of an invoice or credit note; shipping is a line too (`shipping_line`)."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal  # gross, as the customer saw it
    total: Decimal  # gross, what was charged for the line (after any discount)
    vat_rate: Decimal

    def __post_init__(self) -> None:
        _text(self.sku, what="a line's SKU")
        if self.quantity < 1:
            raise ValueError(f"line {self.sku}: quantity {self.quantity} must be at least 1")
        vat.check_cents(self.unit_price, what=f"line {self.sku} unit price")
        vat.check_cents(self.total, what=f"line {self.sku} total")
        vat.check_rate(self.vat_rate)


def shipping_line(amount: Decimal, vat_rate: Decimal, *, name: str = "Shipping") -> BillingLine:
    """Shipping as a billing line: it carries VAT like goods (at the rate of the goods it
    goes with; the caller decides which)."""
    return BillingLine(sku=SHIPPING_SKU, name=name, quantity=1, unit_price=amount,
                       total=amount, vat_rate=vat_rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxDocument:
    """What invoices and credit notes share: a number in a series, two parties, lines,
    and totals that are always their lines' VAT breakdown."""

    number: str  # IT-2026-000123 (numbering.format_number)
    issued_at: datetime  # timezone-aware
    seller: Party
    buyer: Party
    lines: tuple[BillingLine, ...]
    currency: str  # ISO 4217
    order_number: str

    def __post_init__(self) -> None:
        numbering.parse_number(self.number)
        if self.issued_at.tzinfo is None:
            raise ValueError(f"{self.number}: issued_at must be timezone-aware")
        if not self.lines:
            raise ValueError(f"{self.number}: a document has at least one line")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency {self.currency!r} must be an ISO 4217 code")
        if self.seller.vat_id is None:
            raise ValueError(f"{self.number}: the seller's VAT id is required")

    @property
    def series(self) -> numbering.Series:
        return numbering.parse_number(self.number)[0]

    @property
    def vat_lines(self) -> tuple[vat.VatLine, ...]:
        """Net, VAT and gross per rate, highest rate first."""
        return vat.breakdown((line.total, line.vat_rate) for line in self.lines)

    @property
    def totals(self) -> vat.Totals:
        """Net, VAT and gross of the whole document; gross is the sum of the lines."""
        return vat.totals(self.vat_lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice(TaxDocument):
    """An invoice for a captured payment (or a shipment, for orders paid offline)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNote(TaxDocument):
    """A credit note for a refund: its lines are what is given back, in positive amounts."""

    invoice_number: str  # the invoice it corrects
    reason: str = ""

    def __post_init__(self) -> None:
        TaxDocument.__post_init__(self)
        numbering.parse_number(self.invoice_number)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackingLine:
    sku: str
    name: str
    quantity: int

    def __post_init__(self) -> None:
        _text(self.sku, what="a line's SKU")
        if self.quantity < 1:
            raise ValueError(f"line {self.sku}: quantity {self.quantity} must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class PackingSlip:
    """What goes in the box, for the location's printer; no prices."""

    order_number: str
    fulfillment_id: str
    location_code: str
    location: Party  # ships from
    recipient: Party
    lines: tuple[PackingLine, ...]
    parcels: int
    issued_at: datetime

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError(f"packing slip of {self.order_number}: no lines")
        if self.parcels < 1:
            raise ValueError(f"packing slip of {self.order_number}: parcels must be ≥ 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """A parcel's label: one per parcel, outbound or (`returning`) a return."""

    carrier: str
    service: str  # as the carrier names it: "Standard", "Express", "Return"
    tracking_number: str
    sender: Party
    recipient: Party
    reference: str  # the order, fulfillment or return number the parcel belongs to
    weight_grams: int | None = None
    parcel: int = 1
    parcels: int = 1
    returning: bool = False
    contents: str = ""  # a short line for the handler: "2 × TSHIRT-BLU-M"

    def __post_init__(self) -> None:
        _text(self.carrier, what="a label's carrier")
        if not code128_printable(self.tracking_number):
            raise ValueError(f"tracking number {self.tracking_number!r} must be printable "
                             f"ASCII")
        if not 1 <= self.parcel <= self.parcels:
            raise ValueError(f"parcel {self.parcel} of {self.parcels} does not exist")
        if self.weight_grams is not None and self.weight_grams <= 0:
            raise ValueError(f"weight {self.weight_grams} g must be positive")

