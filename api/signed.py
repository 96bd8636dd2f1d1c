"""Signed, expiring links to PDFs (return labels, invoices and credit notes, packing slips and
shipping labels): what they share.

A link's query carries `expires` (Unix seconds) and `signature`, an HMAC-SHA256 over what the
link is for (`parts`, NUL-separated) and the expiry, with a key derived from the server secret
for one kind of link alone (`key`), so a link cannot be moved to another object, another kind
of link, or in time. A caller who also presents a token is checked by the route (`caller`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.auth import InvalidToken, principal_from_header
from domain.access import STAFF, Principal, Role


def key(purpose: str, secret: str) -> bytes:
    """The key links of one `purpose` are signed with, derived from the server secret."""
    return hashlib.sha256(f"promessa/{purpose}\x00".encode() + secret.encode()).digest()


def signature(secret_key: bytes, parts: Sequence[str], expires: int) -> str:
    message = "\x00".join([*parts, str(expires)]).encode()
    digest = hmac.new(secret_key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def query(secret_key: bytes, parts: Sequence[str], *, now: datetime, ttl: timedelta
          ) -> tuple[str, datetime]:
    """The query string signing `parts` until `now + ttl`, and that moment."""
    expires = int((now + ttl).timestamp())
    return (urlencode({"expires": expires, "signature": signature(secret_key, parts, expires)}),
            datetime.fromtimestamp(expires, UTC))


def valid(secret_key: bytes, parts: Sequence[str], *, expires: str | None, given: str | None,
          now: datetime) -> bool:
    """Whether `given` signs `parts` until `expires`, and that is still ahead."""
    # ASCII digits only: int() of "²" raises, compare_digest refuses non-ASCII text — either
    # would be a 500
    if not expires or not given or not (expires.isascii() and given.isascii()) \
            or not expires.isdigit() or len(expires) > 12:
        return False
    wanted = signature(secret_key, parts, int(expires))
    return hmac.compare_digest(wanted, given) and int(expires) > now.timestamp()


def signed(request: Request, secret_key: bytes, parts: Sequence[str], *, now: datetime
           ) -> bool:
    """Whether the request's query signs `parts`."""
    return valid(secret_key, parts, expires=request.query_params.get("expires"),
                 given=request.query_params.get("signature"), now=now)


def caller(request: Request) -> Principal | None:
    """Who presents the request's token (anonymous without one); None for a bad token."""
    settings = request.app.state.settings
    try:
        return principal_from_header(request.headers.get("authorization"),
                                     secret=settings.jwt_secret,
                                     max_days=settings.token_max_days)
    except InvalidToken:
        return None


def customer_or_staff(principal: Principal, email: str) -> bool:
    """A link's bearer who also presents a token must be staff or the customer `email`."""
    return principal.role is Role.ANONYMOUS or principal.role in STAFF or (
        principal.role is Role.CUSTOMER and (principal.email or "").lower() == email.lower())


def refused(status: int) -> Response:
    return PlainTextResponse("not found" if status == 404 else "forbidden", status_code=status,
                             headers={"Cache-Control": "no-store"})


def pdf(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="{filename}"'})
