"""Documents as PDF, rendered with reportlab: invoices, credit notes and packing slips on A4,
shipping and return labels on 100 × 150 mm with a Code 128 barcode of the tracking number.

Each function takes a document from `domain.documents.content` and, optionally, `Formats`
(how money, dates and words are shown; the caller brings the locale's formatting) and returns
the PDF's bytes. The same document gives the same bytes: no timestamps or random ids inside.
No remote resources are read: fonts are the PDF standard ones, the barcode is vector.
"""

from api.documents.billing import render_credit_note, render_invoice
from api.documents.labels import render_label
from api.documents.packing import render_packing_slip
from api.documents.pdf import WORDS, Formats

__all__ = ["WORDS", "Formats", "render_credit_note", "render_invoice", "render_label",
           "render_packing_slip"]
