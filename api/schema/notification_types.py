"""What was written to the customer about an order (GraphQL types)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from api import invoices
from api.context import Context
from api.schema.common import Money
from api.schema.return_types import signed_label
from domain import access
from domain.notifications import Kind, Notification, Status

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
    number: str = strawberry.field(description="Its number: the tracking number of a label.")
    issued_at: datetime
    total: Money | None = strawberry.field(description="What it bills or credits (none for "
                                                       "labels and slips).")
    url: str
    expires_at: datetime


async def documents_of(info: strawberry.Info[Context, None], order_id: str,
                       view: access.OrderView) -> list[OrderDocument]:
    """The order's documents the caller may print: its invoices and credit notes, oldest
    first, then the labels of ship-back returns while they may be sent."""
    if not view.documents:
        return []
    out = await _tax_documents(info, order_id)
    for ret in await info.context.loaders.returns.load(order_id):
        label = signed_label(info, ret)
        if label is not None:
            out.append(OrderDocument(kind=DocumentKind.RETURN_LABEL,
                                     number=label.tracking_number, issued_at=ret.requested_at,
                                     total=None, url=label.url, expires_at=label.expires_at))
    return out


async def _tax_documents(info: strawberry.Info[Context, None], order_id: str
                         ) -> list[OrderDocument]:
    """Invoices and credit notes, as links signed for the order's customer."""
    issued = await info.context.loaders.documents.load(order_id)
    if not issued:
        return []
    order = await info.context.loaders.order.load(order_id)
    if order is None:
        return []
    deps, request = info.context.deps, info.context.request
    base = str(request.base_url).rstrip("/") if request is not None else ""
    out = []
    for doc in issued:
        path, expires = invoices.document_path(deps.document_key, doc.number,
                                               order.customer.email, now=deps.clock.now(),
                                               ttl=deps.label_ttl)
        out.append(OrderDocument(
            kind=DocumentKind(doc.kind.value), number=doc.number,
            issued_at=doc.document.issued_at,
            total=Money(amount=doc.total, currency=doc.document.currency),
            url=base + path, expires_at=expires))
    return out
