"""What was written to the customer about an order (GraphQL types)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from api import labels
from api.context import Context
from api.schema.common import Money
from domain import access
from domain.notifications import Kind, Notification, Status
from domain.returns.policy import ReturnMethod

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

    @classmethod
    def seen(cls, view: access.OrderView, n: Notification) -> OrderNotification:
        return cls(id=strawberry.ID(n.id), kind=n.kind, to=n.to if view.email else None,
                   subject=n.subject, status=n.status, language=n.language,
                   created_at=n.created_at, sent_at=n.sent_at,
                   resend_of=strawberry.ID(n.resend_of) if n.resend_of else None)


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
    """The order's documents the caller may print. Today: return labels of ship-back returns
    while they may be sent (invoices, credit notes, packing slips and shipping labels are
    rendered by api/documents but not yet issued per capture: see the README)."""
    if not view.documents:
        return []
    deps = info.context.deps
    request = info.context.request
    base = str(request.base_url).rstrip("/") if request is not None else ""
    out = []
    for ret in await info.context.loaders.returns.load(order_id):
        if ret.method is not ReturnMethod.SHIP_BACK or ret.status not in labels.PRINTABLE \
                or ret.tracking_number is None:
            continue
        path, expires = labels.label_path(deps.label_key, ret, now=deps.clock.now(),
                                          ttl=deps.label_ttl)
        out.append(OrderDocument(kind=DocumentKind.RETURN_LABEL, number=ret.tracking_number,
                                 issued_at=ret.requested_at, total=None, url=base + path,
                                 expires_at=expires))
    return out
