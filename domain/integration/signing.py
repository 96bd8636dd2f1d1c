"""The Standard Webhooks signature (https://www.standardwebhooks.com), sender side.

A receiver checks `webhook-signature` with any of the scheme's reference libraries: it is
`v1,` and the base64 HMAC-SHA256, keyed with the secret's bytes, of "<id>.<timestamp>.<body>".
Written here rather than taken from the `standardwebhooks` package: it is six lines of
`hmac`, and the tests verify what we send with that package, independently of this code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, base64, with the scheme's `whsec_` prefix."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_: tuple[str, ...], *, message_id: str, timestamp: int,
            body: bytes) -> dict[str, str]:
    """The three headers of one delivery; several secrets (during a rotation) give several
    space-separated signatures, any of which a receiver accepts."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(s, message_id=message_id,
                                                    timestamp=timestamp, body=body)
                                          for s in secrets_)}
