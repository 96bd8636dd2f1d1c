"""The PDFs: they open, their text shows what the document says, labels measure 100 × 150 mm
and their barcode — read back from the page's drawing operators and decoded by the tests' own
Code 128 decoder — is the tracking number."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import documents
from api.documents.pdf import Formats
from domain.documents import carriers, content
from domain.documents.content import BillingLine, CreditNote, Invoice, Label, PackingLine, Party
from tests.documents import code128, reading

D = Decimal
MM = reading.MM
AT = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
SELLER = Party(name="Promessa S.r.l.", address_lines=("Via Roma 1", "00184 Roma RM"),
               country="IT", vat_id="IT01234567890")
BUYER = Party(name="Niccolò Così", address_lines=("Via Po 2", "10124 Torino"), country="IT")
LINES = (BillingLine(sku="MUG-NAME", name="Tazza «Caffè» — 2 €", quantity=2,
                     unit_price=D("12.20"), total=D("24.40"), vat_rate=D("0.22")),
         BillingLine(sku="BOOK-IT", name="Libro: perché sì", quantity=1,
                     unit_price=D("10.40"), total=D("10.40"), vat_rate=D("0.04")),
         content.shipping_line(D("4.99"), D("0.22"), name="Spedizione"))
INVOICE = Invoice(number="IT-2026-000123", issued_at=AT, seller=SELLER, buyer=BUYER,
                  lines=LINES, currency="EUR", order_number="W-000042")
TRACKING = carriers.DemoCarrier("BRT").issue_tracking_number("W-000042-R1", returning=True)
LABEL = Label(carrier="BRT", service="Return", tracking_number=TRACKING, sender=BUYER,
              recipient=SELLER, reference="W-000042-R1", returning=True, weight_grams=1200,
              contents="2 × MUG-NAME")


def euro(amount: Decimal, currency: str) -> str:
    """An Italian-style formatter, as a caller with Babel would pass."""
    whole, cents = f"{amount:.2f}".split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- the decoder the barcode tests rely on -----------------------------------------------------


def test_the_decoders_table_is_the_standards_shape() -> None:
    assert len(code128.PATTERNS) == 107 and len(set(code128.PATTERNS)) == 107
    for value, pattern in enumerate(code128.PATTERNS):
        widths = [int(c) for c in pattern]
        assert sum(widths) == (13 if value == code128.STOP else 11), value
        assert sum(widths[0::2]) % 2 == 0, value  # bars always span an even number of modules


def _widths(values: list[int]) -> list[int]:
    return [int(c) for v in values for c in code128.PATTERNS[v]]


def test_the_decoder_reads_a_symbol_built_from_the_table_by_hand() -> None:
    # Start B, "P" (48), "J" (42), Code C (99), 12 (12), 34 (34), check, stop
    data = [48, 42, 99, 12, 34]
    check = (104 + sum(i * v for i, v in enumerate(data, start=1))) % 103

    assert code128.decode(_widths([104, *data, check, code128.STOP])) == "PJ1234"


def test_the_decoder_refuses_a_symbol_whose_check_does_not_match() -> None:
    data = [48, 42]
    wrong = (104 + 48 + 2 * 42 + 1) % 103

    with pytest.raises(code128.NotCode128):
        code128.decode(_widths([104, *data, wrong, code128.STOP]))


# --- invoices and credit notes ------------------------------------------------------------------


def test_an_invoice_opens_and_shows_its_number_parties_vat_lines_and_totals() -> None:
    pdf = documents.render_invoice(INVOICE)

    page = reading.reader(pdf).pages[0]
    text = one_line(reading.text(pdf))
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "Invoice IT-2026-000123" in text and "Order: W-000042" in text
    assert "VAT no. IT01234567890" in text and "Niccolò Così" in text
    assert "Tazza «Caffè» — 2 €" in text and "Libro: perché sì" in text
    # per rate: rate, net, VAT, gross; then the totals
    assert "22% 24.09 EUR 5.30 EUR 29.39 EUR" in text
    assert "4% 10.00 EUR 0.40 EUR 10.40 EUR" in text
    assert "Total net 34.09 EUR Total VAT 5.70 EUR Total 39.79 EUR" in text


def test_money_dates_and_words_appear_as_the_caller_formats_them() -> None:
    formats = Formats(money=euro, date=lambda at: at.strftime("%d/%m/%Y"), language="it")

    text = one_line(reading.text(documents.render_invoice(INVOICE, formats)))

    assert "Fattura IT-2026-000123" in text and "Data: 14/03/2026" in text
    assert "Riepilogo IVA" in text and "22% € 24,09 € 5,30 € 29,39" in text
    assert "Totale documento € 39,79" in text and "Q.tà" in text


def test_a_credit_note_names_the_invoice_it_corrects() -> None:
    note = CreditNote(number="IT-2026-000130", issued_at=AT, seller=SELLER, buyer=BUYER,
                      lines=LINES[:1], currency="EUR", order_number="W-000042",
                      invoice_number="IT-2026-000123", reason="Reso W-000042-R1")

    text = one_line(reading.text(documents.render_credit_note(note)))

    assert "Credit note IT-2026-000130" in text
    assert "Refers to invoice IT-2026-000123" in text and "Reason: Reso W-000042-R1" in text
    assert "22% 20.00 EUR 4.40 EUR 24.40 EUR" in text
    assert "Total net 20.00 EUR Total VAT 4.40 EUR Total 24.40 EUR" in text


def test_a_long_invoice_runs_over_pages_and_keeps_every_line() -> None:
    many = tuple(BillingLine(sku=f"SKU-{i:03d}", name=f"Articolo {i}", quantity=1,
                             unit_price=D("1.00"), total=D("1.00"), vat_rate=D("0.22"))
                 for i in range(120))
    pdf = documents.render_invoice(dataclasses.replace(INVOICE, lines=many))

    pages = reading.reader(pdf).pages
    text = one_line(reading.text(pdf))
    assert len(pages) >= 3
    assert all(f"SKU-{i:03d}" in text for i in range(120))
    assert f"Page {len(pages)}" in pages[-1].extract_text()
    assert "Total 120.00 EUR" in one_line(pages[-1].extract_text())


def test_the_same_document_gives_the_same_bytes() -> None:
    assert documents.render_invoice(INVOICE) == documents.render_invoice(INVOICE)
    assert documents.render_label(LABEL) == documents.render_label(LABEL)


def test_characters_the_standard_fonts_lack_lose_their_marks_not_the_letter() -> None:
    buyer = dataclasses.replace(BUYER, name="Antonín Dvořák")

    text = reading.text(documents.render_invoice(dataclasses.replace(INVOICE, buyer=buyer)))

    assert "Antonín Dvorák" in text


# --- packing slips ------------------------------------------------------------------------------


def test_a_packing_slip_lists_what_is_in_the_box_without_prices() -> None:
    slip = content.PackingSlip(
        order_number="W-000042", fulfillment_id="f-7", location_code="ST-ROMA",
        location=Party(name="Promessa Roma Termini", address_lines=("Via Marsala 29",),
                       country="IT"),
        recipient=BUYER, parcels=2, issued_at=AT,
        lines=(PackingLine(sku="MUG-NAME", name="Tazza «Caffè»", quantity=2),
               PackingLine(sku="BOOK-IT", name="Libro", quantity=1)))

    pdf = documents.render_packing_slip(slip)

    text = one_line(reading.text(pdf))
    page = reading.reader(pdf).pages[0]
    assert round(float(page.mediabox.height)) == 842
    assert "Packing slip W-000042" in text and "Fulfillment: f-7 (ST-ROMA)" in text
    assert "Parcels: 2" in text
    assert "MUG-NAME Tazza «Caffè» 2" in text and "BOOK-IT Libro 1" in text
    assert "EUR" not in text and "€" not in text


# --- labels -------------------------------------------------------------------------------------


def test_a_label_page_measures_100_by_150_mm() -> None:
    page = reading.reader(documents.render_label(LABEL)).pages[0]

    assert float(page.mediabox.width) == pytest.approx(100 * MM, abs=0.01)
    assert float(page.mediabox.height) == pytest.approx(150 * MM, abs=0.01)


def test_the_labels_barcode_decodes_to_the_tracking_number() -> None:
    pdf = documents.render_label(LABEL)

    assert reading.decode_barcode(pdf) == TRACKING


def test_the_tracking_number_is_printed_under_the_barcode() -> None:
    pdf = documents.render_label(LABEL)
    bars = [b for b in reading.filled_boxes(pdf) if b.height > 20 * MM]
    found: list[float] = []

    def visit(text: str, _cm: object, tm: list[float], _font: object, _size: object) -> None:
        if text.strip() == TRACKING:
            found.append(tm[5])

    reading.reader(pdf).pages[0].extract_text(visitor_text=visit)

    assert len(found) == 1
    assert found[0] < min(b.y for b in bars)


def test_the_barcode_keeps_its_quiet_zones_inside_the_label() -> None:
    pdf = documents.render_label(LABEL)
    widths = reading.barcode_widths(pdf)
    module = sum(widths) / sum(reading.modules(widths))
    bars = [b for b in reading.filled_boxes(pdf) if b.height > 20 * MM]
    left, right = min(b.x for b in bars), max(b.x + b.width for b in bars)

    assert module <= 0.5 * MM + 1e-6
    assert left - 10 * module >= 4 * MM - 0.01
    assert right + 10 * module <= 96 * MM + 0.01


def test_a_return_label_says_so_and_counts_its_parcel() -> None:
    pdf = documents.render_label(dataclasses.replace(LABEL, parcel=2, parcels=3))

    text = one_line(reading.text(pdf))
    assert "RETURN" in text and "Parcel 2/3" in text and "Ref. W-000042-R1" in text
    assert "FROM Niccolò Così Via Po 2 10124 Torino IT" in text
    assert "TO Promessa S.r.l. Via Roma 1 00184 Roma RM IT" in text
    assert "Weight 1.20 kg" in text


def test_an_outbound_label_has_no_return_band() -> None:
    outbound = dataclasses.replace(LABEL, returning=False, service="Express",
                                   tracking_number="CP000000005IT")

    pdf = documents.render_label(outbound)

    assert "RETURN" not in reading.text(pdf)
    assert reading.decode_barcode(pdf) == "CP000000005IT"


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(tracking=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
                        max_size=40).filter(str.strip))
def test_any_printable_tracking_number_decodes_back_from_the_page(tracking: str) -> None:
    pdf = documents.render_label(dataclasses.replace(LABEL, tracking_number=tracking))

    assert reading.decode_barcode(pdf) == tracking
