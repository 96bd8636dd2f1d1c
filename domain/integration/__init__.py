"""What leaves Promessa for other systems: the rules of outbox consumers and webhooks.

Every outward effect stands on one mechanism: a durable consumer of the outbox (its machinery
is in persistence/consumers.py and api/integration/). This package holds the parts that are
decisions rather than plumbing: which event types exist (`EVENT_TYPES`), when a failed
delivery is tried again and when it is parked (`Backoff`), what a webhook endpoint is and
which events it wants (`WebhookEndpoint`), and the Standard Webhooks signature (signing.py).

The integration context: event types, retry schedules, webhook endpoints and their use cases.

May use: kernel, access, orders, returns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from domain.kernel import errors
from domain.orders import FulfillmentStatus, TrackingStatus
from domain.returns.status import ReturnStatus

# Event types written by the domain with a fixed name; the rest are made from a status.
_NAMED = (
    "ORDER_PLACED", "ORDER_CANCELLED", "LINES_CANCELLED", "ORDER_HELD", "ORDER_RELEASED",
    "ORDER_RESOURCED", "ORDER_COMPLETED", "SHIPPING_ADDRESS_UPDATED", "NOTE_ADDED",
    "TAGS_CHANGED", "PROMISE_MOVED", "BACKORDERED", "BACKORDER_ALLOCATED",
    "FULFILLMENT_CREATED", "FULFILLMENT_REROUTED", "FULFILLMENT_UNACKNOWLEDGED",
    "REPLACEMENT_FOR", "REPLACEMENT_RESERVED",
    "INVENTORY_CHANGED", "INCOMING_EXPECTED", "INCOMING_RECEIVED",
    "LOCATIONS_UPSERTED", "SKUS_UPSERTED", "SOURCING_POLICY_SAVED", "DOWNTIME_SCHEDULED",
)
# The payment events of the contract (../shared/contract-next/payments.graphql): endpoints may
# subscribe to them now; they are written once payments are built (issue 14).
_PAYMENTS = ("PAYMENT_CAPTURED", "PAYMENT_VOIDED", "PAYMENT_REFUNDED", "PAYMENT_FAILED")
# Outbox events that are Promessa's own plumbing, not news about an order: never delivered to
# a webhook endpoint or the broker (a resend of a customer mail says nothing new happened).
INTERNAL_EVENT_TYPES: frozenset[str] = frozenset({"NOTIFICATION_RESEND"})
EVENT_TYPES: frozenset[str] = frozenset(
    (*_NAMED, *_PAYMENTS,
     *(f"FULFILLMENT_{s.value}" for s in FulfillmentStatus),
     *(f"TRACKING_{s.value}" for s in TrackingStatus),
     *(f"RETURN_{s.value}" for s in ReturnStatus)))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait before each retry; after the last one the event is parked.

    `delays[0]` is the wait after the first failed attempt, so a job gets len(delays) + 1
    attempts in all. Each wait is spread by ±`jitter` so that jobs that failed together do
    not all come back together.
    """

    delays: tuple[float, ...]
    jitter: float = 0.2

    @classmethod
    def parse(cls, text: str, *, name: str) -> Backoff:
        """`"1,5,30"` → three retries after 1 s, 5 s and 30 s; ValueError says what is wrong."""
        try:
            delays = tuple(float(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise ValueError(f"{name} must be seconds separated by commas, e.g. 1,5,30") from None
        if not delays or any(not 0 <= d <= 7 * 86_400 for d in delays) or len(delays) > 50:
            raise ValueError(f"{name} must list 1-50 waits of 0 to 604800 seconds each")
        return cls(delays)

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    def after(self, attempts: int, *, rand: random.Random | None = None) -> float | None:
        """The wait after the `attempts`-th failed attempt, or None: park it now."""
        if attempts > len(self.delays):
            return None
        base = self.delays[max(0, attempts - 1)]
        spread = (rand or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1 + spread))

    @property
    def total(self) -> float:
        return sum(self.delays)


# Consumers in general: about 40 minutes in all; webhooks: about a day (Stripe and Svix
# retry for days; a day covers a receiver's bad night without piling up for a week).
CONSUMER_BACKOFF = Backoff((1, 5, 30, 120, 600, 1800))
WEBHOOK_BACKOFF = Backoff((5, 30, 120, 600, 1800, 3600, 7200, 14_400, 21_600, 36_000))

MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_EVENT_TYPES = 100


class UnknownEventType(errors.DomainError):
    code = "UNKNOWN_EVENT_TYPE"


class InvalidUrl(errors.DomainError):
    code = "INVALID_URL"


@dataclass(slots=True)
class WebhookEndpoint:
    """A receiver of signed POSTs: every event whose type it asked for (all when none)."""

    id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    secret: str = field(repr=False)
    created_by: str
    created_at: datetime
    updated_at: datetime
    active: bool = True
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    previous_secret: str | None = field(default=None, repr=False)
    previous_until: datetime | None = None
    version: int = field(default=0, compare=False)

    def wants(self, event_type: str) -> bool:
        if event_type in INTERNAL_EVENT_TYPES:
            return False
        return not self.event_types or event_type in self.event_types

    def secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets deliveries are signed with now: after a rotation the old one keeps
        signing alongside the new for a day, so receivers can switch without a gap."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def disable(self, reason: str, *, at: datetime) -> None:
        self.active, self.disabled_reason, self.updated_at = False, reason[:MAX_DESCRIPTION], at

    def enable(self, *, at: datetime) -> None:
        self.active, self.disabled_reason, self.failing_since = True, None, None
        self.updated_at = at


ROTATION_OVERLAP = timedelta(hours=24)


def check_url(url: str, *, field: list[str]) -> str:
    """An absolute http(s) URL without credentials; where it may point is checked when it is
    called (after DNS resolution), not here."""
    url = (url or "").strip()
    if len(url) > MAX_URL or not url.isprintable() or not url.isascii():
        raise InvalidUrl(f"url must be at most {MAX_URL} printable ASCII characters",
                         field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidUrl(f"{url!r} is not a URL", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrl("url must be an absolute http:// or https:// URL", field=field)
    if parts.username or parts.password:
        raise InvalidUrl("url must not carry credentials (the signature authenticates)",
                         field=field)
    if port == 0:
        raise InvalidUrl("url has no usable port", field=field)
    return url


def check_event_types(types: list[str] | tuple[str, ...], *, field: list[str]
                      ) -> tuple[str, ...]:
    """Known event type names, deduplicated in the order given; [] means every type."""
    if len(types) > MAX_EVENT_TYPES:
        raise errors.InvalidInput(f"at most {MAX_EVENT_TYPES} event types", field=field)
    out: list[str] = []
    for i, name in enumerate(types):
        if name not in EVENT_TYPES:
            raise UnknownEventType(
                f"{name[:64]!r} is not an event type (e.g. ORDER_PLACED, FULFILLMENT_SHIPPED)",
                field=[*field, str(i)])
        if name not in out:
            out.append(name)
    return tuple(out)


def check_description(text: str | None, *, field: list[str]) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION or not text.isprintable():
        raise errors.InvalidInput(f"description must be at most {MAX_DESCRIPTION} printable "
                                  "characters", field=field)
    return text
