"""Reading rendered PDFs back, for the tests: text with pypdf, and the filled rectangles of a
page from its content stream (with the transformation matrix applied)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import ContentStream

from tests.documents import code128

MM = 72 / 25.4


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    """Every page's text, pages joined."""
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def _times(m: list[float], n: list[float]) -> list[float]:
    """m × n for PDF matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u]


def filled_boxes(pdf: bytes, page: int = 0) -> list[Box]:
    """The rectangles painted with a fill (`re` … `f`), in page coordinates."""
    doc = reader(pdf)
    stream = ContentStream(doc.pages[page].get_contents(), doc)
    ctm, stack, path, boxes = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [], [], []
    for operands, operator in stream.operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q":
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = _times([float(x) for x in operands], ctm)
        elif operator == b"re":
            x, y, w, h = (float(v) for v in operands)
            a, b, c, d, e, f = ctm
            assert b == c == 0, "the tests read unrotated pages only"
            x0, y0 = a * x + e, d * y + f
            x1, y1 = a * (x + w) + e, d * (y + h) + f
            path.append(Box(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)))
        elif operator in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):
            boxes.extend(path)
            path = []
        elif operator in (b"n", b"S", b"s"):
            path = []
    return boxes


def barcode_widths(pdf: bytes, page: int = 0) -> list[float]:
    """Widths of bars and spaces, in points, of the barcode: the largest set of filled boxes
    sharing one baseline and height, left to right (bar, space, bar, …, bar)."""
    rows: dict[tuple[float, float], list[Box]] = {}
    for box in filled_boxes(pdf, page):
        rows.setdefault((round(box.y, 2), round(box.height, 2)), []).append(box)
    bars = sorted(max(rows.values(), key=len), key=lambda b: b.x)
    widths = []
    for bar, after in zip(bars, bars[1:], strict=False):
        widths += [bar.width, after.x - (bar.x + bar.width)]
    return widths + [bars[-1].width]


def modules(widths: list[float]) -> list[int]:
    """Element widths in modules. A Code 128 symbol with k symbols before the stop has
    6k + 7 elements and 11k + 13 modules, which gives the module width; every element must
    then be a whole number of modules (a misdrawn bar fails here)."""
    count = (len(widths) - 7) // 6
    module = sum(widths) / (11 * count + 13)
    out = []
    for w in widths:
        n = round(w / module)
        assert abs(w / module - n) < 0.05, f"element {w:.3f} pt is not whole modules"
        out.append(n)
    return out


def decode_barcode(pdf: bytes, page: int = 0) -> str:
    return code128.decode(modules(barcode_widths(pdf, page)))
