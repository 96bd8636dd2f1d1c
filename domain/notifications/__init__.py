"""Notifications: which events the customer is told about, in which language, and when a
message is not sent (opted out, nothing new to say).

The mails themselves are rendered and sent by a durable consumer of the outbox
(api/notifications); this module holds the decisions, so they are the same for every
adapter and testable without one. A message is about one event: the event id is its
idempotency key, so a retried job finds the message it already wrote instead of writing a
second one.

May use: kernel, access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.kernel import errors


class Kind(StrEnum):
    ORDER_CONFIRMED = "ORDER_CONFIRMED"
    SHIPPED = "SHIPPED"
    DELAYED = "DELAYED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_RECEIVED = "RETURN_RECEIVED"
    REFUND_ISSUED = "REFUND_ISSUED"


class Status(StrEnum):
    QUEUED = "QUEUED"  # an agent asked for it again; the consumer sends it shortly
    SENDING = "SENDING"  # written before the SMTP call: a crash here may send it again
    SENT = "SENT"  # the SMTP server accepted it
    RECORDED = "RECORDED"  # rendered and kept, not sent: no SMTP server is configured
    FAILED = "FAILED"  # the last attempt failed; retried on the consumer's schedule
    SUPPRESSED = "SUPPRESSED"  # the same news went out moments ago
    OPTED_OUT = "OPTED_OUT"  # a non-essential update the customer turned off


# The status changes that make news, from the outbox's event types. Fulfillment status events
# come once per change of status, whatever the number of carrier scans behind them, so three
# "out for delivery" scans in a minute make one mail. A refund is told by RETURN_REFUNDED (the
# return's refund, with or without a payment provider), never also by PAYMENT_REFUNDED.
KIND_OF_EVENT: dict[str, Kind] = {
    "ORDER_PLACED": Kind.ORDER_CONFIRMED,
    "FULFILLMENT_SHIPPED": Kind.SHIPPED,
    "PROMISE_MOVED": Kind.DELAYED,
    "FULFILLMENT_OUT_FOR_DELIVERY": Kind.OUT_FOR_DELIVERY,
    "TRACKING_OUT_FOR_DELIVERY": Kind.OUT_FOR_DELIVERY,
    "TRACKING_DELIVERED": Kind.DELIVERED,
    "FULFILLMENT_READY_FOR_PICKUP": Kind.READY_FOR_PICKUP,
    "FULFILLMENT_DELIVERED": Kind.DELIVERED,
    "ORDER_CANCELLED": Kind.CANCELLED,
    "LINES_CANCELLED": Kind.CANCELLED,
    "RETURN_APPROVED": Kind.RETURN_APPROVED,
    "RETURN_RECEIVED": Kind.RETURN_RECEIVED,
    "RETURN_REFUNDED": Kind.REFUND_ISSUED,
}
# what a customer may turn off; everything else is transactional and always sent
NON_ESSENTIAL = frozenset({Kind.OUT_FOR_DELIVERY, Kind.DELIVERED})
# a carrier scan is news only when it moved the parcel's status (payload `moved`): a repeated
# scan, or one older than the newest, tells the customer nothing new
SCAN_EVENTS = frozenset({"TRACKING_OUT_FOR_DELIVERY", "TRACKING_DELIVERED"})
# news that can come again within minutes (a carrier re-announcing a delay): one mail per
# order and parcel within COALESCE_WINDOW, the later ones are kept as SUPPRESSED
COALESCED = frozenset({Kind.DELAYED, Kind.OUT_FOR_DELIVERY})
COALESCE_WINDOW = timedelta(minutes=30)
LANGUAGES = ("en", "it")
# the shipping country's language where the order and channel name none (others: English)
COUNTRY_LANGUAGE = {"IT": "it", "SM": "it", "VA": "it"}
MAX_SUBJECT = 300


def kind_of(event_type: str, payload: dict[str, Any]) -> Kind | None:
    """The message an event makes, if any: only an order's events reach a customer."""
    if not isinstance(payload.get("order"), str):
        return None
    if event_type in SCAN_EVENTS and payload.get("moved") is not True:
        return None
    return KIND_OF_EVENT.get(event_type)


def language(*, customer: str | None, channel: str | None, country: str | None) -> str:
    """The order's language (`customer.locale` at checkout), else the channel's, else the
    shipping country's; English when none of them is one we write in."""
    for locale in (customer, channel):
        if locale:
            lang = locale.replace("_", "-").split("-")[0].lower()
            if lang in LANGUAGES:
                return lang
    return COUNTRY_LANGUAGE.get((country or "").upper(), "en")


def message_id(event_id: str, kind: Kind, domain: str) -> str:
    """The RFC 5322 Message-ID of the message about `event_id`: the same on every retry, so a
    mail the SMTP server accepted twice (see `Status.SENDING`) is one message to a reader."""
    return f"<{event_id}.{kind.value.lower()}@{domain}>"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message about one event of one order, as written (or not) to its recipient."""

    id: str
    order_number: str
    event_id: str
    kind: Kind
    to: str
    subject: str
    language: str
    status: Status
    created_at: datetime
    message_id: str
    fulfillment_id: str | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
    resend_of: str | None = None
    text: str = ""
    html: str = ""
    position: int = 0  # its event's place in the outbox: orders an order's messages
    attachments: tuple[str, ...] = ()  # numbers of the documents it carries


def suppressed(kind: Kind, fulfillment_id: str | None, *, at: datetime,
               earlier: list[Notification]) -> bool:
    """A delay or out-for-delivery message already went out for this parcel moments ago."""
    if kind not in COALESCED:
        return False
    return any(n.kind is kind and n.fulfillment_id == fulfillment_id
               and n.status in (Status.SENT, Status.RECORDED, Status.SENDING)
               and abs(at - n.created_at) < COALESCE_WINDOW for n in earlier)


def resendable(n: Notification) -> None:
    """Only a message that went out (or was recorded) can go out again."""
    if n.status not in (Status.SENT, Status.RECORDED):
        raise errors.InvalidInput(
            f"notification {n.id} is {n.status.value}: only a sent or recorded message can be "
            "sent again", field=["id"])


# --- opting out of non-essential updates -----------------------------------------------------

def optout_key(secret: str) -> bytes:
    """The key opt-out links are signed with, derived from the server secret."""
    return hashlib.sha256(b"promessa/notification-optout/v1\x00" + secret.encode()).digest()


def optout_token(key: bytes, email: str) -> str:
    """The signed token of an opt-out link: the address and an HMAC over it (no expiry: a
    link in an old mail keeps working, and it can only ever turn updates off)."""
    address = email.strip().lower()
    digest = hmac.new(key, b"optout\x00" + address.encode(), hashlib.sha256).digest()
    encoded = base64.urlsafe_b64encode(address.encode()).decode().rstrip("=")
    return f"{encoded}.{base64.urlsafe_b64encode(digest[:18]).decode()}"


def optout_email(key: bytes, token: str) -> str | None:
    """The address a token was made for, or None when it was not made with `key`."""
    encoded, _, _sig = token.partition(".")
    try:
        address = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not address or len(address) > 320:
        return None
    return address if hmac.compare_digest(optout_token(key, address), token) else None
