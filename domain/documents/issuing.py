"""Issuing invoices and credit notes: which money a document is for, what its lines are, and
the store port that numbers and keeps them.

An invoice documents money taken: one per capture (its lines are the parcels the capture is
for, the first invoice of an order also carries the shipping charge), or, for an order placed
without a payment, one per parcel handed over. A credit note documents money given back: one
per refund, its lines the units returned (and the shipping refunded with them), referring to
the invoice of those units. A document's gross total is always exactly the money it documents:
the amount is spread over its lines in proportion to their list value, cent by cent (largest
remainder), so a capture's rounding, a discount or an agent's different refund amount never
makes a document disagree with the money moved.

The number is handed out by the store (`DocumentStore.issue`) from a counter row per series,
in the same transaction as the capture or refund is recorded: a rolled-back capture takes its
number back with it, two captures never get one number, and a retried capture (same `source`)
finds the document already issued.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.catalog import Sku
from domain.documents import numbering
from domain.documents.content import (
    BillingLine,
    CreditNote,
    Invoice,
    Party,
    TaxDocument,
    party,
    shipping_line,
)
from domain.kernel import tax
from domain.kernel.money import CENT
from domain.orders import Order, OrderLine

ZERO = Decimal("0.00")


class Kind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Seller:
    """Who sells: printed on every document; `time_zone` decides the day (and so the year,
    the series) a document is issued on."""

    party: Party
    time_zone: str = "Europe/Rome"


DEMO_SELLER = Seller(party=Party(
    name="Promessa Demo S.r.l.", address_lines=("Via Tortona 27", "20144 Milano (MI)"),
    country="IT", vat_id="IT12345678903"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A document before it has a number: what `DocumentStore.issue` numbers and keeps."""

    kind: Kind
    source: str  # what it documents, unique: `capture:<key>`, `shipment:<id>`, `refund:<id>`
    order_id: str
    order_number: str
    country: str  # the series' country: where the goods went, whose VAT is charged
    issued_at: datetime
    seller: Seller
    buyer: Party
    lines: tuple[BillingLine, ...]
    currency: str
    fulfillment_ids: tuple[str, ...] = ()  # the parcels an invoice is for
    order_line_ids: tuple[str, ...] = ()  # the order lines it bills or credits
    refers_to: str | None = None  # a credit note's invoice
    reason: str = ""

    @property
    def series(self) -> numbering.Series:
        local = self.issued_at.astimezone(ZoneInfo(self.seller.time_zone))
        return numbering.series_for(self.country, local.date())

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    def numbered(self, sequence: int) -> TaxDocument:
        """The document with the `sequence`th number of its series."""
        number = numbering.format_number(self.series, sequence)
        common = {"number": number, "issued_at": self.issued_at, "seller": self.seller.party,
                  "buyer": self.buyer, "lines": self.lines, "currency": self.currency,
                  "order_number": self.order_number}
        if self.kind is Kind.INVOICE:
            return Invoice(**common)  # type: ignore[arg-type]
        assert self.refers_to is not None
        return CreditNote(**common, invoice_number=self.refers_to,  # type: ignore[arg-type]
                          reason=self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """A document as kept: its number, what it is for, and its content."""

    id: str
    kind: Kind
    source: str
    order_id: str
    document: TaxDocument
    fulfillment_ids: tuple[str, ...] = ()
    order_line_ids: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.document.number

    @property
    def total(self) -> Decimal:
        return self.document.totals.gross


class DocumentStore(Protocol):
    """Invoices and credit notes, in the transaction of the money they document."""

    async def for_order(self, order_id: str) -> list[Issued]:
        """The order's documents, oldest number first."""

    async def issue(self, draft: Draft) -> Issued:
        """Number the draft with the next number of its series and keep it; the document
        already issued for the same `source`, if there is one."""


# ------------------------------------------------------------------------ spreading money


def spread(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` split over `weights` in proportion, in whole cents adding up to `amount`
    exactly (largest remainder; ties to the earlier weight). All weight zero: evenly."""
    if amount < 0:
        raise ValueError(f"cannot spread a negative amount {amount}")
    if not weights:
        raise ValueError("nothing to spread over")
    cents = int((amount / CENT).to_integral_value())
    if amount != cents * CENT:
        raise ValueError(f"{amount} is not in whole cents")
    total = sum(weights, Decimal(0))
    use = list(weights) if total > 0 else [Decimal(1)] * len(weights)
    total = sum(use, Decimal(0))
    exact = [Decimal(cents) * w / total for w in use]
    floors = [int(x) for x in exact]  # weights are non-negative: int() is floor
    left = cents - sum(floors)
    order = sorted(range(len(use)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


@dataclass(frozen=True, slots=True)
class Item:
    """What a document line is about before the money is spread: units of an order line
    (`line` None: the shipping charge) and their list value."""

    line: OrderLine | None
    units: int
    value: Decimal


def _rate(order: Order, line: OrderLine | None, country: str) -> Decimal:
    if line is not None:
        return line.vat_rate if line.vat_rate is not None else tax.rate_for(country)
    return tax.shipping_rate((ln.vat_rate if ln.vat_rate is not None else tax.rate_for(country)
                              for ln in order.lines), country)


def lines_for(order: Order, items: Sequence[Item], amount: Decimal, *,
              names: dict[str, Sku], country: str, shipping_name: str = "Shipping"
              ) -> tuple[BillingLine, ...]:
    """Billing lines for `items` whose totals add up to `amount` exactly; items that end up
    with nothing (a zero-priced gift) are kept — a document lists what it is for."""
    rates = [_rate(order, item.line, country) for item in items]
    # where tax is added, each item's share of `amount` carries its own rate's tax (as the
    # capture took it: domain/payments.share), not the document's blended rate
    weights = [item.value * (1 + rate) if order.tax_added else item.value
               for item, rate in zip(items, rates, strict=True)]
    amounts = spread(amount, weights)
    out = []
    for item, total, rate in zip(items, amounts, rates, strict=True):
        if item.line is None:
            out.append(shipping_line(total, rate, name=shipping_name))
            continue
        sku = names.get(item.line.sku)
        unit = (total / item.units).quantize(CENT)
        out.append(BillingLine(sku=item.line.sku, name=sku.name if sku else item.line.sku,
                               quantity=item.units, unit_price=unit, total=total,
                               vat_rate=rate))
    return tuple(out)


def _units_by_line(order: Order, fulfillment_ids: Iterable[str]) -> dict[str, int]:
    units: dict[str, int] = {}
    for fid in fulfillment_ids:
        # a kit has a row per component, each carrying the kit units: count a line once
        per_line = {fl.order_line_id: fl.units for fl in order.fulfillment(fid).lines}
        for line_id, n in per_line.items():
            units[line_id] = units.get(line_id, 0) + n
    return units


def country_of(order: Order, pickup_country: str | None = None) -> str:
    """Whose VAT the order pays: where it is delivered (a pickup: the store's country)."""
    if order.delivery.address is not None:
        return order.delivery.address.country
    return pickup_country or "IT"


def buyer_of(order: Order, country: str) -> Party:
    name = order.customer.name or order.customer.email
    if order.delivery.address is not None:
        return party(name, order.delivery.address)
    return Party(name=name, address_lines=(order.customer.email,), country=country)


def invoice(order: Order, *, source: str, fulfillment_ids: Sequence[str], amount: Decimal,
            with_shipping: bool, seller: Seller, names: dict[str, Sku], at: datetime,
            country: str) -> Draft:
    """The invoice of `amount` taken for the parcels `fulfillment_ids` (and the shipping
    charge, `with_shipping`)."""
    by_id = {ln.id: ln for ln in order.lines}
    items = [Item(by_id[line_id], n, by_id[line_id].unit_price.amount * n)
             for line_id, n in _units_by_line(order, fulfillment_ids).items()]
    if with_shipping and order.shipping.amount > 0:
        items.append(Item(None, 1, order.shipping.amount))
    if not items:  # a capture with no parcel behind it: bill the order's lines
        items = [Item(ln, ln.quantity, ln.unit_price.amount * ln.quantity) for ln in order.lines]
    return Draft(kind=Kind.INVOICE, source=source, order_id=order.id,
                 order_number=order.number, country=country, issued_at=at, seller=seller,
                 buyer=buyer_of(order, country),
                 lines=lines_for(order, items, amount, names=names, country=country),
                 currency=order.currency, fulfillment_ids=tuple(fulfillment_ids),
                 order_line_ids=tuple(i.line.id for i in items if i.line is not None))


def credit_note(order: Order, *, source: str, returned: Sequence[tuple[str, int]],
                shipping: Decimal, amount: Decimal, invoices: Sequence[Issued],
                seller: Seller, names: dict[str, Sku], at: datetime, country: str,
                reason: str = "") -> Draft | None:
    """The credit note of `amount` given back for units of order lines (`returned`: order
    line id, units) and `shipping` refunded with them; None when the order has no invoice to
    refer to (nothing was billed)."""
    if not invoices:
        return None
    wanted = {line_id for line_id, _ in returned}
    # the invoice that billed the returned units (the first that billed any), else the last
    refers = next((i for i in invoices if i.kind is Kind.INVOICE
                   and wanted & set(i.order_line_ids)), None) \
        or next((i for i in reversed(invoices) if i.kind is Kind.INVOICE), None)
    if refers is None:
        return None
    by_id = {ln.id: ln for ln in order.lines}
    items = [Item(by_id[line_id], n, by_id[line_id].unit_price.amount * n)
             for line_id, n in returned if n > 0]
    if shipping > 0:
        items.append(Item(None, 1, shipping))
    if not items:
        return None
    return Draft(kind=Kind.CREDIT_NOTE, source=source, order_id=order.id,
                 order_number=order.number, country=country, issued_at=at, seller=seller,
                 buyer=refers.document.buyer,
                 lines=lines_for(order, items, amount, names=names, country=country),
                 currency=order.currency, order_line_ids=tuple(wanted),
                 refers_to=refers.number, reason=reason)


@dataclass(slots=True)
class Ledger:
    """What an order's documents add up to: billed less credited (for checks and tests)."""

    billed: Decimal = ZERO
    credited: Decimal = ZERO
    numbers: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, issued: Iterable[Issued]) -> Ledger:
        out = cls()
        for doc in issued:
            out.numbers.append(doc.number)
            if doc.kind is Kind.INVOICE:
                out.billed += doc.total
            else:
                out.credited += doc.total
        return out
