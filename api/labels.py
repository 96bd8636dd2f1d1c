"""Return labels: a printable PDF at a URL that only works for the return's customer.

The PDF is the documents' parcel label (api/documents, 100 × 150 mm, Code 128 of the
tracking number the carrier issued when the return was opened).

The URL carries an expiry and an HMAC over (return number, customer email, expiry) made with
a key derived from the server secret for return labels alone (api/signed.py), so it cannot be
moved to another return, customer or time. A caller who also presents a token must be that
customer (or staff).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from api import documents, signed
from domain.catalog import Location
from domain.documents import content as documents_content
from domain.orders import Order
from domain.returns import Return
from domain.returns.policy import ReturnMethod
from domain.returns.status import ReturnStatus

# a label is printed while the parcel may still be sent
PRINTABLE = frozenset({ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT})


def label_key(secret: str) -> bytes:
    """The key return-label URLs are signed with, derived from the server secret."""
    return signed.key("return-label/v1", secret)


def signature(key: bytes, number: str, email: str, expires: int) -> str:
    return signed.signature(key, (number, email.lower()), expires)


def label_path(key: bytes, ret: Return, *, now: datetime, ttl: timedelta
               ) -> tuple[str, datetime]:
    """The signed path of the return's label, and when it stops working."""
    query, expires = signed.query(key, (ret.number, ret.customer_email.lower()), now=now,
                                  ttl=ttl)
    return f"/returns/{ret.number}/label.pdf?{query}", expires


def valid(key: bytes, ret: Return, *, expires: str | None, given: str | None,
          now: datetime) -> bool:
    return signed.valid(key, (ret.number, ret.customer_email.lower()), expires=expires,
                        given=given, now=now)


def label_of(ret: Return, order: Order, to: Location | None) -> documents_content.Label:
    """The return's parcel label: from the customer (the order's delivery address) to the
    receiving location, with the tracking number the carrier issued for the return."""
    customer = order.customer.name or order.customer.email
    where = order.delivery.address
    # a pickup order has no delivery address: the parcel leaves from the receiving country
    country = where.country if where else (to.address.country if to else "IT")
    sender = (documents_content.party(customer, where) if where is not None
              else documents_content.Party(name=customer, address_lines=(), country=country))
    recipient = (documents_content.party(f"{to.name} ({to.code})", to.address)
                 if to is not None else documents_content.Party(
                     name=ret.receiving_location, address_lines=(), country=country))
    if ret.carrier is None or ret.tracking_number is None:
        raise ValueError(f"return {ret.number} is not sent back with a carrier")
    return documents_content.Label(
        carrier=ret.carrier, service="Return", tracking_number=ret.tracking_number,
        sender=sender,
        recipient=recipient, reference=ret.number, returning=True,
        contents=", ".join(f"{ln.quantity} × {ln.sku}" for ln in ret.lines))


def render_pdf(ret: Return, order: Order, to: Location | None) -> bytes:
    """The return label as a 100 × 150 mm PDF, in the customer's language (Italian or
    English)."""
    locale = (order.customer.locale or "").lower()
    formats = documents.Formats(language="it" if locale.startswith("it") else "en")
    return documents.render_label(label_of(ret, order, to), formats)


async def return_label(request: Request) -> Response:
    """GET /returns/{number}/label.pdf?expires=…&signature=…"""
    deps = request.app.state.deps
    ret = await deps.reader.return_by_number(request.path_params["number"])
    if ret is None or ret.method is not ReturnMethod.SHIP_BACK:
        return signed.refused(404)
    if not valid(deps.label_key, ret, expires=request.query_params.get("expires"),
                 given=request.query_params.get("signature"), now=deps.clock.now()):
        return signed.refused(403)
    principal = signed.caller(request)
    if principal is None or not signed.customer_or_staff(principal, ret.customer_email):
        return signed.refused(403)
    if ret.status not in PRINTABLE:
        return signed.refused(404)
    order = await deps.reader.order_by_id(ret.order_id)
    to = (await deps.reader.locations([ret.receiving_location])).get(ret.receiving_location)
    return signed.pdf(render_pdf(ret, order, to), f"{ret.number}-label.pdf")
