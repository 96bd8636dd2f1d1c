"""Return labels: a printable PDF at a URL that only works for the return's customer.

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

from api.auth import InvalidToken, principal_from_header
from domain.access import STAFF, Role
from domain.catalog import Location
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


def _text(value: str) -> str:
    safe = value.encode("latin-1", "replace").decode("latin-1")
    return "".join(c if c.isprintable() else "?" for c in safe).replace(
        "\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render_pdf(ret: Return, order: Order, to: Location | None) -> bytes:
    """A one-page PDF 1.4 label (4 × 6 in) in the standard Helvetica font."""
    sender = order.delivery.address
    lines = [("F2", 16, f"RETURN {ret.number}"), ("F1", 11, f"Carrier: {ret.carrier}"),
             ("F2", 14, f"Tracking: {ret.tracking_number}"), ("F1", 11, ""),
             ("F2", 11, "FROM"), ("F1", 11, order.customer.name or order.customer.email)]
    if sender is not None:
        lines += [("F1", 11, sender.line1),
                  ("F1", 11, f"{sender.postal_code} {sender.city} {sender.country}")]
    lines += [("F1", 11, ""), ("F2", 11, "TO")]
    if to is not None:
        a = to.address
        lines += [("F1", 11, f"{to.name} ({to.code})"), ("F1", 11, a.line1),
                  ("F1", 11, f"{a.postal_code} {a.city} {a.country}")]
    lines += [("F1", 11, ""), ("F1", 10, f"Order {order.number}"),
              ("F1", 10, ", ".join(f"{ln.quantity} x {ln.sku}" for ln in ret.lines)[:80])]
    ops = ["2 w 12 12 264 408 re S", "BT", "24 392 Td"]
    for font, size, text in lines:
        ops.append(f"/{font} {size} Tf ({_text(text)}) Tj 0 -{size + 8} Td")
    ops.append("ET")
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


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
