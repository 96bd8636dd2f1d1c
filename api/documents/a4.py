"""The A4 documents' frame: one platypus document with the number and page on every page,
and the building blocks invoices, credit notes and packing slips are made of."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from api.documents.pdf import A4_PAGE, BOLD, FONT, Formats, markup, printable
from domain.documents.content import Party

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=BODY, fontName=BOLD, fontSize=9)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD, fontSize=18, leading=22,
                       spaceAfter=4 * mm)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=2)
RIGHT_BOLD = ParagraphStyle("right_bold", parent=RIGHT, fontName=BOLD)
MARGIN = 18 * mm
WIDTH = A4_PAGE[0] - 2 * MARGIN

def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(markup(text), style)


def party_block(heading: str, who: Party, formats: Formats) -> list[Paragraph]:
    """A party as printed: heading, name, address lines, country, VAT number."""
    block = [para(heading, HEAD), para(who.name, BODY)]
    block += [para(line, BODY) for line in who.address_lines]
    block.append(para(who.country, BODY))
    if who.vat_id:
        block.append(para(f"{formats.word('vat_id')} {who.vat_id}", BODY))
    return block


def side_by_side(left: list[Paragraph], right: list[Paragraph]) -> Table:
    table = Table([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6 * mm)]))
    return table


def grid(rows: Sequence[Sequence[object]], widths: Sequence[float], *,
         right_from: int) -> Table:
    """A table with a header row; columns from `right_from` on are right-aligned (figures)."""
    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), BOLD, 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT")]))
    return table


def render(story: list[Flowable], *, title: str, footer: str, formats: Formats) -> bytes:
    """The story as an A4 PDF with `footer` and the page number on every page."""
    buffer = io.BytesIO()
    page_word = formats.word("page")

    def on_page(canvas: Canvas, _doc: object) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, 10 * mm, printable(footer))
        canvas.drawRightString(A4_PAGE[0] - MARGIN, 10 * mm,
                               f"{page_word} {canvas.getPageNumber()}")
        canvas.restoreState()

    # invariant: the same document gives the same bytes (no timestamp or random id inside)
    doc = SimpleDocTemplate(buffer, pagesize=A4_PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 6 * mm,
                            title=printable(title), author="Promessa", creator="Promessa",
                            invariant=1)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
