"""Document content: totals are always the lines' VAT breakdown, and a document that would
print something wrong cannot be built."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.catalog import Address
from domain.documents import content, numbering
from domain.documents.content import BillingLine, CreditNote, Invoice, Label, Party

D = Decimal
AT = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
SELLER = Party(name="Promessa S.r.l.", address_lines=("Via Roma 1", "00184 Roma RM"),
               country="IT", vat_id="IT01234567890")
BUYER = Party(name="Ada Lovelace", address_lines=("Via Po 2", "10124 Torino"), country="IT")


def invoice(**changes: object) -> Invoice:
    fields: dict[str, object] = dict(
        number="IT-2026-000123", issued_at=AT, seller=SELLER, buyer=BUYER, currency="EUR",
        order_number="W-000042",
        lines=(BillingLine(sku="MUG", name="Tazza", quantity=2, unit_price=D("12.20"),
                           total=D("24.40"), vat_rate=D("0.22")),
               BillingLine(sku="BOOK", name="Libro", quantity=1, unit_price=D("10.40"),
                           total=D("10.40"), vat_rate=D("0.04")),
               content.shipping_line(D("4.99"), D("0.22"))))
    fields.update(changes)
    return Invoice(**fields)  # type: ignore[arg-type]


def test_an_invoice_totals_are_its_lines_vat_breakdown() -> None:
    doc = invoice()

    assert [(v.rate, v.net, v.vat, v.gross) for v in doc.vat_lines] == [
        (D("0.22"), D("24.09"), D("5.30"), D("29.39")),
        (D("0.04"), D("10.00"), D("0.40"), D("10.40"))]
    assert (doc.totals.net, doc.totals.vat, doc.totals.gross) == (
        D("34.09"), D("5.70"), D("39.79"))
    assert doc.series == numbering.Series("IT", 2026)
    assert doc.lines[-1].sku == content.SHIPPING_SKU


def test_a_credit_note_refers_to_its_invoice() -> None:
    note = CreditNote(number="IT-2026-000130", issued_at=AT, seller=SELLER, buyer=BUYER,
                      currency="EUR", order_number="W-000042", lines=invoice().lines[:1],
                      invoice_number="IT-2026-000123", reason="Reso W-000042-R1")

    assert note.invoice_number == "IT-2026-000123"
    assert note.totals.gross == D("24.40")
    with pytest.raises(numbering.InvalidNumber):
        dataclasses.replace(note, invoice_number="123")


@pytest.mark.parametrize("changes", [
    {"number": "2026-123"}, {"issued_at": datetime(2026, 3, 14)}, {"lines": ()},
    {"currency": "eur"}, {"seller": dataclasses.replace(SELLER, vat_id=None)}])
def test_an_invoice_that_would_print_wrong_cannot_be_built(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        invoice(**changes)


@pytest.mark.parametrize("changes", [
    {"quantity": 0}, {"total": D("1.001")}, {"unit_price": D("-1.00")},
    {"vat_rate": D("22")}, {"sku": " "}])
def test_a_billing_line_must_be_whole(changes: dict[str, object]) -> None:
    good = dict(sku="MUG", name="Tazza", quantity=1, unit_price=D("1.00"), total=D("1.00"),
                vat_rate=D("0.22"))
    with pytest.raises(ValueError):
        BillingLine(**(good | changes))  # type: ignore[arg-type]


def test_a_party_at_a_catalog_address_prints_street_then_town() -> None:
    where = Address(line1="Via del Corso 10", line2="Scala B", city="Roma",
                    postal_code="00186", country="IT", region="RM")

    assert content.party("Niccolò", where) == Party(
        name="Niccolò", address_lines=("Via del Corso 10", "Scala B", "00186 Roma (RM)"),
        country="IT")


@pytest.mark.parametrize("changes", [
    {"parcel": 3, "parcels": 2}, {"parcel": 0}, {"tracking_number": "RT12€"},
    {"tracking_number": ""}, {"weight_grams": 0}, {"carrier": ""}])
def test_a_label_that_could_not_be_scanned_or_counted_cannot_be_built(
        changes: dict[str, object]) -> None:
    good = dict(carrier="BRT", service="Return", tracking_number="RT545420341IT",
                sender=BUYER, recipient=SELLER, reference="W-000042-R1")
    with pytest.raises(ValueError):
        Label(**(good | changes))  # type: ignore[arg-type]
