"""The pickup code: six digits the customer is sent when the parcel is on the counter shelf
and says at the counter; an associate who asks for it (`confirmPickup` with `pickupCode`)
hands the parcel over only against the right one.

Derived, not stored: an HMAC of the order's id under a key the server derives from its secret
(`key`), so the code is the same in every mail and on /track, nobody without the key can work
it out from the order's number or id, and there is nothing to migrate. The API shows it to the
order's customer and to whoever gives the order's number and email (the guest proof, as for
the rest of the order), never in a store's view of the order; `confirmPickup` with the code
refuses a wrong one (PICKUP_CODE_MISMATCH) and changes nothing. Asking for it is up to the
store (without it, the associate decides on an ID, as before).
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
