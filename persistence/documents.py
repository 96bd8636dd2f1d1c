"""Invoices and credit notes (domain/documents/issuing.py), kept in the transaction of the
money they document, numbered gap-free from a counter row per series.

The next number is one statement: an upsert of the series' counter row that returns the new
value (`INSERT … ON CONFLICT (series) DO UPDATE SET last = last + 1 RETURNING last`). On
PostgreSQL the row stays locked until the transaction ends, so a second capture numbering in
the same series waits for the first to commit (and gets the next number) or roll back (and
gets the same one): no gap, no number twice. SQLite has one writer at a time anyway. The lock
is held only for the rest of the capture's record transaction — a few statements, no remote
call (the provider was asked before it began).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.documents.content import BillingLine, CreditNote, Invoice, Party, TaxDocument
from domain.documents.issuing import Draft, Issued, Kind
from persistence.db import insert_for
from persistence.mapping import to_minor
from persistence.tables import DocumentCounterRow, DocumentRow, table

D, COUNTER = table(DocumentRow), table(DocumentCounterRow)
COLUMNS = (D.c.id, D.c.kind, D.c.source, D.c.order_id, D.c.content)


def _party(p: Party) -> dict[str, Any]:
    return {"name": p.name, "lines": list(p.address_lines), "country": p.country,
            "vat_id": p.vat_id}


def _party_from(d: dict[str, Any]) -> Party:
    return Party(name=d["name"], address_lines=tuple(d["lines"]), country=d["country"],
                 vat_id=d["vat_id"])


def encode(doc: TaxDocument, *, fulfillment_ids: tuple[str, ...],
           order_line_ids: tuple[str, ...]) -> str:
    """The document's content as JSON text: amounts and rates as strings (exact)."""
    body: dict[str, Any] = {
        "number": doc.number, "issued_at": doc.issued_at.isoformat(),
        "seller": _party(doc.seller), "buyer": _party(doc.buyer), "currency": doc.currency,
        "order_number": doc.order_number,
        "lines": [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                   "unit_price": str(ln.unit_price), "total": str(ln.total),
                   "vat_rate": str(ln.vat_rate)} for ln in doc.lines],
        "fulfillment_ids": list(fulfillment_ids), "order_line_ids": list(order_line_ids)}
    if isinstance(doc, CreditNote):
        body["invoice_number"], body["reason"] = doc.invoice_number, doc.reason
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def decode(kind: Kind, text: str) -> tuple[TaxDocument, tuple[str, ...], tuple[str, ...]]:
    body = json.loads(text)
    common: dict[str, Any] = {
        "number": body["number"], "issued_at": datetime.fromisoformat(body["issued_at"]),
        "seller": _party_from(body["seller"]), "buyer": _party_from(body["buyer"]),
        "currency": body["currency"], "order_number": body["order_number"],
        "lines": tuple(BillingLine(sku=ln["sku"], name=ln["name"], quantity=ln["quantity"],
                                   unit_price=Decimal(ln["unit_price"]),
                                   total=Decimal(ln["total"]), vat_rate=Decimal(ln["vat_rate"]))
                       for ln in body["lines"])}
    doc: TaxDocument
    if kind is Kind.INVOICE:
        doc = Invoice(**common)
    else:
        doc = CreditNote(**common, invoice_number=body["invoice_number"],
                         reason=body.get("reason", ""))
    return doc, tuple(body["fulfillment_ids"]), tuple(body["order_line_ids"])


def issued_from(r: Any) -> Issued:
    kind = Kind(r.kind)
    doc, fulfillments, lines = decode(kind, r.content)
    return Issued(id=r.id, kind=kind, source=r.source, order_id=r.order_id, document=doc,
                  fulfillment_ids=fulfillments, order_line_ids=lines)


async def of_orders(conn: AsyncConnection, ids: list[str]) -> dict[str, list[Issued]]:
    """The documents of a batch of orders, oldest number first: one statement."""
    found: dict[str, list[Issued]] = {i: [] for i in ids}
    rows = await conn.execute(sa.select(*COLUMNS).where(D.c.order_id.in_(ids))
                              .order_by(D.c.order_id, D.c.issued_at, D.c.series, D.c.sequence))
    for r in rows.all():
        found[r.order_id].append(issued_from(r))
    return found


async def by_number(conn: AsyncConnection, number: str) -> Issued | None:
    r = (await conn.execute(sa.select(*COLUMNS).where(D.c.number == number))).first()
    return None if r is None else issued_from(r)


class SqlDocumentStore:
    """`domain.documents.issuing.DocumentStore` in a unit of work's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def for_order(self, order_id: str) -> list[Issued]:
        return (await of_orders(self.conn, [order_id]))[order_id]

    async def issue(self, draft: Draft) -> Issued:
        found = (await self.conn.execute(sa.select(*COLUMNS).where(
            D.c.source == draft.source))).first()
        if found is not None:
            return issued_from(found)
        series = draft.series
        stmt = insert_for(self.conn, COUNTER).values(series=series.key, last=1)
        sequence = (await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["series"], set_={"last": COUNTER.c.last + 1})
            .returning(COUNTER.c.last))).scalar_one()
        doc = draft.numbered(sequence)
        issued = Issued(id=str(uuid.uuid4()), kind=draft.kind, source=draft.source,
                        order_id=draft.order_id, document=doc,
                        fulfillment_ids=draft.fulfillment_ids,
                        order_line_ids=draft.order_line_ids)
        await self.conn.execute(sa.insert(D).values(
            id=issued.id, order_id=draft.order_id, kind=draft.kind.value, number=doc.number,
            series=series.key, sequence=sequence, source=draft.source,
            refers_to=draft.refers_to, issued_at=draft.issued_at, currency=draft.currency,
            total_minor=to_minor(doc.totals.gross),
            content=encode(doc, fulfillment_ids=draft.fulfillment_ids,
                           order_line_ids=draft.order_line_ids)))
        return issued
