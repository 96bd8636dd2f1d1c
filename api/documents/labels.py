"""Parcel labels, 100 × 150 mm (the 4 × 6 in thermal label): carrier and service, sender,
recipient, reference, parcel i of n, and the tracking number as a Code 128 barcode with the
number printed under it. A return label is the same label with RETURN across its head.

The barcode is reportlab's own Code 128 (`reportlab.graphics.barcode.code128`), drawn as
filled rectangles, never a bitmap: it stays sharp at any printer's resolution. Its module
(narrowest bar) is at most 0.5 mm and shrinks only as far as a long number needs to keep
10 modules of quiet zone on each side within the label.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from api.documents.pdf import BOLD, FONT, LABEL_PAGE, Formats, printable
from domain.documents.content import Label, Party

WIDTH, HEIGHT = LABEL_PAGE
MARGIN = 4 * mm
INNER = WIDTH - 2 * MARGIN
MAX_MODULE = 0.5 * mm
QUIET_MODULES = 10  # the quiet zone Code 128 asks for on either side
BAR_HEIGHT = 26 * mm
BARCODE_Y = 16 * mm  # bottom of the bars; the number is printed below them


def render_label(label: Label, formats: Formats | None = None) -> bytes:
    """The label as a one-page 100 × 150 mm PDF."""
    f = formats or Formats()
    buffer = io.BytesIO()
    title = f"{label.carrier} {label.tracking_number}"
    canvas = Canvas(buffer, pagesize=LABEL_PAGE, invariant=1)
    canvas.setTitle(printable(title))
    canvas.setAuthor("Promessa")
    canvas.setCreator("Promessa")
    canvas.setLineWidth(1.2)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN, stroke=1, fill=0)
    y = _head(canvas, label, f)
    y = _party(canvas, f.word("from"), label.sender, y - 4 * mm, size=8)
    y = _party(canvas, f.word("to"), label.recipient, y - 4 * mm, size=12)
    _details(canvas, label, f, y - 3 * mm)
    _barcode(canvas, label.tracking_number)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def fit(text: str, font: str, size: float, width: float = INNER) -> str:
    """`text` printable and cut (with an ellipsis) to fit `width` at that font and size."""
    text = printable(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _head(canvas: Canvas, label: Label, f: Formats) -> float:
    """Carrier and service, RETURN when it is one, and a rule under them; the y below."""
    top = HEIGHT - MARGIN - 8 * mm
    canvas.setFont(BOLD, 20)
    canvas.drawString(MARGIN, top, fit(label.carrier, BOLD, 20, INNER / 2))
    canvas.setFont(FONT, 11)
    canvas.drawRightString(WIDTH - MARGIN, top, fit(label.service, FONT, 11, INNER / 2))
    if label.returning:
        # white on black across the head: a return is told apart at a glance in the depot
        band = top - 11 * mm
        canvas.setFillColor(colors.black)
        canvas.rect(MARGIN, band, INNER, 8 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(BOLD, 16)
        canvas.drawCentredString(WIDTH / 2, band + 2.3 * mm, printable(f.word("return")))
        canvas.setFillColor(colors.black)
        top = band
    rule = top - 3 * mm
    canvas.setLineWidth(0.8)
    canvas.line(MARGIN, rule, WIDTH - MARGIN, rule)
    return rule


def _party(canvas: Canvas, heading: str, who: Party, y: float, *, size: float) -> float:
    """A party's block from `y` down; the y below it."""
    canvas.setFont(BOLD, 8)
    canvas.drawString(MARGIN, y, printable(heading))
    y -= size + 3
    canvas.setFont(BOLD, size)
    canvas.drawString(MARGIN, y, fit(who.name, BOLD, size))
    canvas.setFont(FONT, size)
    for line in (*who.address_lines, who.country):
        y -= size + 2
        canvas.drawString(MARGIN, y, fit(line, FONT, size))
    return y


def _details(canvas: Canvas, label: Label, f: Formats, y: float) -> None:
    canvas.setLineWidth(0.8)
    canvas.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 5 * mm
    canvas.setFont(BOLD, 10)
    canvas.drawString(MARGIN, y, fit(f"{f.word('reference')} {label.reference}", BOLD, 10,
                                     INNER * 0.65))
    canvas.drawRightString(WIDTH - MARGIN, y,
                           f"{f.word('parcel')} {label.parcel}/{label.parcels}")
    canvas.setFont(FONT, 8)
    if label.weight_grams is not None:
        y -= 4 * mm
        canvas.drawString(MARGIN, y, f"{f.word('weight')} {label.weight_grams / 1000:.2f} kg")
    if label.contents:
        y -= 4 * mm
        canvas.drawString(MARGIN, y, fit(f"{f.word('contents')}: {label.contents}", FONT, 8))


def module_width(value: str) -> tuple[float, int]:
    """The module width for `value`'s Code 128 symbol, and its width in modules."""
    modules = int(round(Code128(value, barWidth=1, quiet=0).width))
    return min(MAX_MODULE, INNER / (modules + 2 * QUIET_MODULES)), modules


def _barcode(canvas: Canvas, tracking: str) -> None:
    module, modules = module_width(tracking)
    symbol = Code128(tracking, barWidth=module, barHeight=BAR_HEIGHT, quiet=0,
                     humanReadable=0)
    symbol.drawOn(canvas, (WIDTH - modules * module) / 2, BARCODE_Y)
    canvas.setFont(BOLD, 14)
    canvas.drawCentredString(WIDTH / 2, BARCODE_Y - 7 * mm, fit(tracking, BOLD, 14))
