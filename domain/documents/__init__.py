"""Documents: what the papers of an order say — invoices, credit notes, packing slips and
parcel labels — and the carrier port that hands out tracking numbers.

The documents context: the content of each document as frozen values (`content`), the VAT
breakdown by rate that makes a document's totals agree with the money moved to the cent
(`vat`), the gap-free invoice numbers' format (`numbering`; the counter itself is the store's,
incremented in the capture's transaction), and carriers (`carriers`: the port, and the
built-in `demo` carrier issuing UPU S10 numbers, `s10`). Rendering them (PDF) is the API's
business; nothing here formats money or dates for people.

May use: kernel, catalog, orders.
"""
