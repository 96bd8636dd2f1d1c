"""What every document PDF shares: page sizes, fonts, words in two languages, how money and
dates reach the page, and text made safe for the standard PDF fonts.

Fonts: the PDF standard Helvetica family, in WinAnsi encoding, which every viewer and printer
has — so nothing is embedded, no file is read, and text extracts as written. WinAnsi covers
the Italian (and every Western European) accent and the euro sign; a character outside it
(e.g. "ř") is printed without its mark where it has one ("Dvořák" → "Dvorák") and as "?" where
it has none, instead of as an empty box.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

FONT, BOLD = "Helvetica", "Helvetica-Bold"
A4_PAGE = A4
LABEL_PAGE = (100 * mm, 150 * mm)  # the 4 × 6 in thermal label, in its metric size

WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "invoice": "Invoice", "credit_note": "Credit note", "packing_slip": "Packing slip",
        "issued": "Date", "order": "Order", "seller": "Seller", "buyer": "Bill to",
        "vat_id": "VAT no.", "sku": "SKU", "item": "Item", "quantity": "Qty",
        "unit_price": "Unit price", "vat_rate": "VAT", "line_total": "Total",
        "vat_summary": "VAT by rate", "rate": "Rate", "net": "Net", "vat": "VAT",
        "gross": "Gross", "total_net": "Total net", "total_vat": "Total VAT",
        "total": "Total", "refers_to": "Refers to invoice", "reason": "Reason",
        "prices_include_vat": "Prices include VAT.", "page": "Page",
        "fulfillment": "Fulfillment", "ships_from": "Ships from", "ship_to": "Ship to",
        "parcels": "Parcels", "from": "FROM", "to": "TO", "return": "RETURN",
        "parcel": "Parcel", "weight": "Weight", "reference": "Ref.", "tracking": "Tracking",
        "contents": "Contents",
    },
    "it": {
        "invoice": "Fattura", "credit_note": "Nota di credito",
        "packing_slip": "Documento di trasporto", "issued": "Data", "order": "Ordine",
        "seller": "Cedente", "buyer": "Cessionario", "vat_id": "P. IVA", "sku": "Codice",
        "item": "Descrizione", "quantity": "Q.tà", "unit_price": "Prezzo unitario",
        "vat_rate": "IVA", "line_total": "Importo", "vat_summary": "Riepilogo IVA",
        "rate": "Aliquota", "net": "Imponibile", "vat": "Imposta", "gross": "Totale",
        "total_net": "Totale imponibile", "total_vat": "Totale IVA",
        "total": "Totale documento", "refers_to": "Rettifica la fattura",
        "reason": "Causale", "prices_include_vat": "Prezzi IVA inclusa.", "page": "Pagina",
        "fulfillment": "Spedizione", "ships_from": "Mittente", "ship_to": "Destinatario",
        "parcels": "Colli", "from": "MITTENTE", "to": "DESTINATARIO", "return": "RESO",
        "parcel": "Collo", "weight": "Peso", "reference": "Rif.", "tracking": "Tracciamento",
        "contents": "Contenuto",
    },
}


def plain_money(amount: Decimal, currency: str) -> str:
    """`24.40 EUR`: the default when the caller brings no locale's formatting."""
    return f"{amount:.2f} {currency}"


def plain_date(at: datetime) -> str:
    """`2026-03-14`: the default when the caller brings no locale's formatting."""
    return at.date().isoformat()


@dataclass(frozen=True, slots=True)
class Formats:
    """How the caller wants money, dates and words shown (e.g. Babel's `format_currency`
    for the order's locale): documents print what these return, as returned."""

    money: Callable[[Decimal, str], str] = plain_money
    date: Callable[[datetime], str] = plain_date
    language: str = "en"
    words: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: WORDS)

    def word(self, key: str) -> str:
        return self.words.get(self.language, self.words["en"])[key]


def printable(value: str) -> str:
    """`value` as the standard fonts can print it (see the module docstring)."""
    out = []
    for char in value:
        if char in "\t\n\r":
            out.append(" ")
            continue
        if not char.isprintable():
            continue
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            bare = "".join(c for c in unicodedata.normalize("NFKD", char)
                           if not unicodedata.combining(c))
            out.append(bare if bare and _encodable(bare) else "?")
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def markup(value: str) -> str:
    """`value` printable and escaped for a platypus Paragraph (which reads XML-ish markup)."""
    return escape(printable(value))
