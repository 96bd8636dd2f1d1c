"""Return labels: a printable PDF at a URL that only works for the return's customer.

The PDF is the documents' parcel label (api/documents, 100 × 150 mm, Code 128 of the
tracking number the carrier issued when the return was opened).

The URL carries an expiry and an HMAC over (return number, customer email, expiry) made with
a key derived from the server secret, so it cannot be moved to another return, customer or
time. A caller who also presents a token must be that customer (or staff).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api import documents
from api.auth import InvalidToken, principal_from_header
from domain.access import STAFF, Role
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
    return hashlib.sha256(b"promessa/return-label/v1\x00" + secret.encode()).digest()


def signature(key: bytes, number: str, email: str, expires: int) -> str:
    message = f"{number}\x00{email.lower()}\x00{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def label_path(key: bytes, ret: Return, *, now: datetime, ttl: timedelta
               ) -> tuple[str, datetime]:
    """The signed path of the return's label, and when it stops working."""
    expires = int((now + ttl).timestamp())
    query = urlencode({"expires": expires,
                       "signature": signature(key, ret.number, ret.customer_email, expires)})
    return f"/returns/{ret.number}/label.pdf?{query}", datetime.fromtimestamp(expires, UTC)


def valid(key: bytes, ret: Return, *, expires: str | None, given: str | None,
          now: datetime) -> bool:
    # ASCII only: "²".isdigit() is true but int() refuses it, and compare_digest refuses
    # non-ASCII text — either would be a 500
    if not expires or not given or not (expires.isascii() and given.isascii()) \
            or not expires.isdigit() or len(expires) > 12:
        return False
    wanted = signature(key, ret.number, ret.customer_email, int(expires))
    return hmac.compare_digest(wanted, given) and int(expires) > now.timestamp()


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


def _refused(status: int) -> Response:
    return PlainTextResponse("not found" if status == 404 else "forbidden", status_code=status,
                             headers={"Cache-Control": "no-store"})


async def return_label(request: Request) -> Response:
    """GET /returns/{number}/label.pdf?expires=…&signature=…"""
    deps = request.app.state.deps
    settings = request.app.state.settings
    now = deps.clock.now()
    ret = await deps.reader.return_by_number(request.path_params["number"])
    if ret is None or ret.method is not ReturnMethod.SHIP_BACK:
        return _refused(404)
    if not valid(deps.label_key, ret, expires=request.query_params.get("expires"),
                 given=request.query_params.get("signature"), now=now):
        return _refused(403)
    try:
        principal = principal_from_header(request.headers.get("authorization"),
                                          secret=settings.jwt_secret,
                                          max_days=settings.token_max_days)
    except InvalidToken:
        return _refused(403)
    if principal.role is not Role.ANONYMOUS and principal.role not in STAFF \
            and (principal.role is not Role.CUSTOMER
                 or (principal.email or "").lower() != ret.customer_email):
        return _refused(403)
    if ret.status not in PRINTABLE:
        return _refused(404)
    order = await deps.reader.order_by_id(ret.order_id)
    to = (await deps.reader.locations([ret.receiving_location])).get(ret.receiving_location)
    return Response(render_pdf(ret, order, to), media_type="application/pdf", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="{ret.number}-label.pdf"'})
