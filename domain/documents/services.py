"""Issuing a document in the transaction of the money it documents: the facts a document
needs that the order does not hold (the SKUs' names, a pickup store's country), looked up in
that transaction, then the draft numbered and kept by the store.

Called by the payments use cases when a capture is recorded (or a parcel of an order without
a payment is handed over) and by the returns use cases when a refund is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.catalog import Sku
from domain.catalog.ports import CatalogRepository
from domain.documents import issuing
from domain.documents.issuing import DocumentStore, Issued, Kind, Seller
from domain.orders import Order


class UnitOfWork(Protocol):
    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def documents(self) -> DocumentStore: ...


async def _facts(tx: UnitOfWork, order: Order) -> tuple[dict[str, Sku], str]:
    names = await tx.catalog.skus({ln.sku for ln in order.lines})
    pickup_country = None
    if order.delivery.address is None and order.delivery.pickup_location:
        code = order.delivery.pickup_location
        store = (await tx.catalog.locations([code])).get(code)
        pickup_country = store.address.country if store is not None else None
    return names, issuing.country_of(order, pickup_country)


async def _issued(tx: UnitOfWork, order: Order, source: str
                  ) -> tuple[list[Issued], Issued | None]:
    """The order's documents, and the one already issued for `source`."""
    issued = await tx.documents.for_order(order.id)
    return issued, next((d for d in issued if d.source == source), None)


async def bill(tx: UnitOfWork, order: Order, *, source: str, fulfillment_ids: Sequence[str],
               amount: Decimal, seller: Seller, at: datetime) -> Issued | None:
    """The invoice of `amount` taken for the parcels `fulfillment_ids` (the order's first
    invoice also bills the shipping charge); the one issued already for `source`, if any;
    none for nothing taken."""
    if amount <= 0:
        return None
    issued, found = await _issued(tx, order, source)
    if found is not None:
        return found
    names, country = await _facts(tx, order)
    first = not any(d.kind is Kind.INVOICE for d in issued)
    draft = issuing.invoice(order, source=source, fulfillment_ids=fulfillment_ids,
                            amount=amount, with_shipping=first, seller=seller, names=names,
                            at=at, country=country)
    return await tx.documents.issue(draft)


async def credit(tx: UnitOfWork, order: Order, *, source: str,
                 returned: Sequence[tuple[str, int]], shipping: Decimal, amount: Decimal,
                 seller: Seller, at: datetime, reason: str = "") -> Issued | None:
    """The credit note of `amount` given back for `returned` (order line id, units) and
    `shipping`; none when nothing was given back or nothing was ever invoiced."""
    if amount <= 0:
        return None
    issued, found = await _issued(tx, order, source)
    if found is not None:
        return found
    if not any(d.kind is Kind.INVOICE for d in issued):
        return None  # nothing was billed, so nothing to credit (and no catalog to read)
    names, country = await _facts(tx, order)
    draft = issuing.credit_note(order, source=source, returned=returned, shipping=shipping,
                                amount=amount, invoices=issued, seller=seller, names=names,
                                at=at, country=country, reason=reason)
    return None if draft is None else await tx.documents.issue(draft)
