"""The pickup code: six digits the customer is sent when the parcel is on the counter shelf
and says at the counter, so the associate hands it to the right person.

Derived, not stored: an HMAC of the order's id under a key the server derives from its secret
(`key`), so the code is the same in every mail and on /track, nobody without the key can work
it out from what the API shows, and there is nothing to migrate. A store associate is never
shown it (stores see no pickup code in the API); `confirmPickup` with the code refuses a wrong
one (PICKUP_CODE_MISMATCH) and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac

DIGITS = 6


def pickup_code(key: bytes, order_id: str) -> str:
    """The order's pickup code: `DIGITS` decimal digits."""
    digest = hmac.new(key, f"pickup\x00{order_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def matches(key: bytes, order_id: str, given: str) -> bool:
    """Whether `given` (spaces and dashes ignored, as people read six digits out) is the
    order's code."""
    typed = "".join(c for c in given if c not in " -")
    return typed.isascii() and hmac.compare_digest(typed, pickup_code(key, order_id))
