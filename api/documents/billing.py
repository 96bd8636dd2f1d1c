"""Invoices and credit notes as A4 PDFs: parties, lines, VAT by rate, totals.

Every figure comes from the document (`domain.documents.content`): the VAT lines and totals
are its own breakdown, so the PDF cannot disagree with the money moved.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from api.documents import a4
from api.documents.pdf import Formats
from domain.documents import vat
from domain.documents.content import CreditNote, Invoice, TaxDocument


def render_invoice(invoice: Invoice, formats: Formats | None = None) -> bytes:
    """The invoice as an A4 PDF."""
    f = formats or Formats()
    return _render(invoice, f.word("invoice"), [], f)


def render_credit_note(note: CreditNote, formats: Formats | None = None) -> bytes:
    """The credit note as an A4 PDF, naming the invoice it corrects."""
    f = formats or Formats()
    extra: list[Flowable] = [a4.para(f"{f.word('refers_to')} {note.invoice_number}", a4.HEAD)]
    if note.reason:
        extra.append(a4.para(f"{f.word('reason')}: {note.reason}"))
    return _render(note, f.word("credit_note"), extra, f)


def _render(document: TaxDocument, kind: str, extra: list[Flowable], f: Formats) -> bytes:
    title = f"{kind} {document.number}"
    story: list[Flowable] = [
        a4.para(title, a4.TITLE),
        a4.para(f"{f.word('issued')}: {f.date(document.issued_at)}"),
        a4.para(f"{f.word('order')}: {document.order_number}"),
        *extra, Spacer(1, 6 * mm),
        a4.side_by_side(a4.party_block(f.word("seller"), document.seller, f),
                        a4.party_block(f.word("buyer"), document.buyer, f)),
        _lines(document, f), Spacer(1, 6 * mm),
        _vat_summary(document, f), Spacer(1, 4 * mm),
        _totals(document, f), Spacer(1, 4 * mm),
        a4.para(f.word("prices_include_vat"), a4.SMALL)]
    return a4.render(story, title=title, footer=f"{title} · {document.seller.name}",
                     formats=f)


def _lines(document: TaxDocument, f: Formats) -> Flowable:
    money = document.currency
    rows: list[list[object]] = [[f.word("sku"), f.word("item"), f.word("quantity"),
                                 f.word("unit_price"), f.word("vat_rate"),
                                 f.word("line_total")]]
    rows += [[a4.para(line.sku, a4.SMALL), a4.para(line.name), str(line.quantity),
              f.money(line.unit_price, money), vat.percent(line.vat_rate),
              f.money(line.total, money)] for line in document.lines]
    return a4.grid(rows, [30 * mm, 62 * mm, 12 * mm, 26 * mm, 14 * mm, 30 * mm], right_from=2)


def _vat_summary(document: TaxDocument, f: Formats) -> Flowable:
    money = document.currency
    rows: list[list[object]] = [[f.word("vat_summary"), f.word("rate"), f.word("net"),
                                 f.word("vat"), f.word("gross")]]
    rows += [["", vat.percent(v.rate), f.money(v.net, money), f.money(v.vat, money),
              f.money(v.gross, money)] for v in document.vat_lines]
    return a4.grid(rows, [44 * mm, 20 * mm, 35 * mm, 35 * mm, 40 * mm], right_from=1)


def _totals(document: TaxDocument, f: Formats) -> Flowable:
    money, t = document.currency, document.totals
    rows: list[list[object]] = [
        [a4.para(f.word("total_net"), a4.RIGHT), a4.para(f.money(t.net, money), a4.RIGHT)],
        [a4.para(f.word("total_vat"), a4.RIGHT), a4.para(f.money(t.vat, money), a4.RIGHT)],
        [a4.para(f.word("total"), a4.RIGHT_BOLD),
         a4.para(f.money(t.gross, money), a4.RIGHT_BOLD)]]
    table = Table(rows, colWidths=[a4.WIDTH - 40 * mm, 40 * mm])
    table.setStyle(TableStyle([("LINEABOVE", (0, 2), (-1, 2), 0.8, colors.black),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    return table
