"""JWT bearer tokens (HS256) to principals, and tokens for local use."""

from __future__ import annotations

import time

import jwt

from domain.access import ANONYMOUS, Principal, Role

ALGORITHM = "HS256"
MAX_DAYS = 366.0  # the longest a token may live (PROMESSA_TOKEN_MAX_DAYS)
TOKEN_ROLES = {r.value for r in Role if r is not Role.ANONYMOUS}


class InvalidToken(Exception):
    """The Authorization header is present but unusable."""


def principal_from_header(header: str | None, *, secret: str,
                          max_days: float = MAX_DAYS) -> Principal:
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'")
    return principal_from_token(token.strip(), secret=secret, max_days=max_days)


def principal_from_token(token: str, *, secret: str, max_days: float = MAX_DAYS) -> Principal:
    """The token's principal; it must say when it expires (`exp`), and not later than
    `max_days` from now: a token that never expires, or in 10^30 seconds, is refused (and so
    no socket opened with one stays open for ever)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    exp = claims["exp"]
    if not isinstance(exp, int | float) or exp - time.time() > max_days * 86_400:
        raise InvalidToken(f"token lives too long: at most {max_days:g} days")
    role = claims.get("role")
    if not isinstance(role, str) or role not in TOKEN_ROLES:  # a list or an object: not a role
        raise InvalidToken(f"unknown role {role!r}"[:120])
    locations = claims.get("locations") or []
    email = claims.get("email")
    if not isinstance(locations, list) or not all(isinstance(x, str) for x in locations):
        raise InvalidToken("locations must be a list of location codes")
    if email is not None and not isinstance(email, str):
        raise InvalidToken("email must be a string")
    if role == Role.CUSTOMER and not email:
        raise InvalidToken("a customer token needs an email")
    return Principal(Role(role), subject=str(claims["sub"]),
                     email=email.lower() if email else None, locations=frozenset(locations))


def expires_at(header: str | None, *, secret: str) -> float | None:
    """When a valid bearer token stops being valid (its `exp`, epoch seconds), if it says."""
    if not header:
        return None
    token = header.partition(" ")[2].strip()
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.InvalidTokenError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def issue_token(*, role: str, secret: str, email: str | None = None,
                locations: list[str] | None = None, subject: str | None = None,
                ttl_seconds: int = 30 * 24 * 3600) -> str:
    if role not in TOKEN_ROLES:
        raise ValueError(f"role must be one of {', '.join(sorted(TOKEN_ROLES))}")
    now = int(time.time())
    claims: dict = {"sub": subject or email or role, "role": role, "iat": now,
                    "exp": now + ttl_seconds}
    if email:
        claims["email"] = email
    if locations:
        claims["locations"] = locations
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
