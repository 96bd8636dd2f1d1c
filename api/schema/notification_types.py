"""What was written to the customer about an order (GraphQL types)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from api import invoices, parcels
from api.context import Context
from api.schema.common import Money, link_base
from api.schema.return_types import signed_label
from domain import access
from domain.documents.issuing import Issued
from domain.notifications import Kind, Notification, Status
from domain.orders import Order

strawberry.enum(Kind, name="NotificationKind", description="What a customer mail is about.")
strawberry.enum(Status, name="NotificationStatus", description=(
    "SENT: the SMTP server accepted it; RECORDED: rendered and kept, no SMTP server is "
    "configured; SENDING/FAILED: being (re)tried; QUEUED: a resend waiting for its turn; "
    "SUPPRESSED: the same news went out moments ago; OPTED_OUT: a non-essential update the "
    "customer turned off."))


@strawberry.type(description="A mail to the customer about one event of the order.")
class OrderNotification:
    id: strawberry.ID
    kind: Kind
    to: str | None = strawberry.field(description="The address it went to (staff and the "
                                                  "customer; null for anyone else).")
    subject: str
    status: Status
    language: str
    created_at: datetime
    sent_at: datetime | None
    resend_of: strawberry.ID | None = strawberry.field(
        description="The notification this one sends again.")
    attachments: list[str] = strawberry.field(description=(
        "The numbers of the documents it carries as PDFs: the parcel's invoice with SHIPPED, "
        "the refund's credit note with REFUND_ISSUED."))

    @classmethod
    def seen(cls, view: access.OrderView, n: Notification) -> OrderNotification:
        return cls(id=strawberry.ID(n.id), kind=n.kind, to=n.to if view.email else None,
                   subject=n.subject, status=n.status, language=n.language,
                   created_at=n.created_at, sent_at=n.sent_at,
                   resend_of=strawberry.ID(n.resend_of) if n.resend_of else None,
                   attachments=list(n.attachments))


@strawberry.enum(description="A document of an order.")
class DocumentKind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    PACKING_SLIP = "PACKING_SLIP"
    SHIPPING_LABEL = "SHIPPING_LABEL"
    RETURN_LABEL = "RETURN_LABEL"


@strawberry.type(description="A printable document of the order, as a signed, expiring link "
                             "to its PDF.")
class OrderDocument:
    kind: DocumentKind
    number: str = strawberry.field(description=(
        "Its number: an invoice's or credit note's, a label's tracking number, a packing "
        "slip's fulfillment id."))
    issued_at: datetime
    total: Money | None = strawberry.field(description="What it bills or credits (none for "
                                                       "labels and slips).")
    url: str
    expires_at: datetime


async def documents_of(info: strawberry.Info[Context, None], order_id: str,
                       view: access.OrderView, order: Order | None = None
                       ) -> list[OrderDocument]:
    """The order's documents the caller may print: its invoices and credit notes, oldest
    first (staff and the customer); the packing slips (staff and the location's associates)
    and shipping labels (those and the customer) of its parcels; the labels of ship-back
    returns while they may be sent (staff and the customer)."""
    store = view.locations is not None
    if not (view.documents or store):
        return []
    order = order or await info.context.loaders.order.load(order_id)
    if order is None:
        return []
    links = _Links(info)
    out = await _tax_documents(info, order, links) if view.documents else []
    out += _parcel_papers(order, view, links)
    if not view.documents:
        return out
    for ret in await info.context.loaders.returns.load(order_id):
        label = signed_label(info, ret)
        if label is not None:
            out.append(OrderDocument(kind=DocumentKind.RETURN_LABEL,
                                     number=label.tracking_number, issued_at=ret.requested_at,
                                     total=None, url=label.url, expires_at=label.expires_at))
    return out


class _Links:
    """Signed links on this server, all expiring after the label lifetime from now."""

    def __init__(self, info: strawberry.Info[Context, None]) -> None:
        self.deps = info.context.deps
        self.base = link_base(info.context.request)
        self.now = self.deps.clock.now()

    def paper(self, kind: DocumentKind, paper: parcels.Paper, fulfillment_id: str,
              number: str, at: datetime) -> OrderDocument:
        path, expires = parcels.paper_path(self.deps.paper_key, paper, fulfillment_id,
                                           now=self.now, ttl=self.deps.label_ttl)
        return OrderDocument(kind=kind, number=number, issued_at=at, total=None,
                             url=self.base + path, expires_at=expires)

    def document(self, doc: Issued, email: str) -> OrderDocument:
        path, expires = invoices.document_path(self.deps.document_key, doc.number, email,
                                               now=self.now, ttl=self.deps.label_ttl)
        return OrderDocument(
            kind=DocumentKind(doc.kind.value), number=doc.number,
            issued_at=doc.document.issued_at,
            total=Money(amount=doc.total, currency=doc.document.currency),
            url=self.base + path, expires_at=expires)


def _parcel_papers(order: Order, view: access.OrderView, links: _Links) -> list[OrderDocument]:
    """Packing slips (staff, the location's associates) and shipping labels (those and the
    customer) of the fulfillments the caller sees."""
    store = view.locations is not None
    slips, labels = view.internal or store, view.documents or store
    out = []
    for f in order.fulfillments:
        if not view.shows(f.location):
            continue
        if slips and parcels.has_slip(f):
            out.append(links.paper(DocumentKind.PACKING_SLIP, parcels.Paper.PACKING_SLIP, f.id,
                                   parcels.public_id(f), order.placed_at))
        if labels and parcels.has_label(f) and f.tracking_number:
            out.append(links.paper(DocumentKind.SHIPPING_LABEL, parcels.Paper.LABEL, f.id,
                                   f.tracking_number, f.shipped_at or order.placed_at))
    return out


async def _tax_documents(info: strawberry.Info[Context, None], order: Order, links: _Links
                         ) -> list[OrderDocument]:
    """Invoices and credit notes, as links signed for the order's customer."""
    issued = await info.context.loaders.documents.load(order.id)
    return [links.document(doc, order.customer.email) for doc in issued]
