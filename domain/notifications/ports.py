"""What notifications need stored, and what a rendered mail holds for the SMTP outlet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.notifications import Notification, Status


class NotificationStore(Protocol):
    async def by_events(self, event_ids: Iterable[str]) -> dict[str, Notification]: ...
    async def for_orders(self, numbers: Iterable[str]) -> dict[str, list[Notification]]: ...
    async def get(self, notification_id: str) -> Notification | None: ...

    async def add(self, n: Notification) -> Notification:
        """Write `n`, or return the message already written about its event."""

    async def mark(self, notification_id: str, status: Status, *, at: datetime,
                   error: str | None = None) -> None:
        """The outcome of an attempt: attempts + 1, sent_at when SENT."""

    async def queue_resend(self, n: Notification) -> None:
        """Write `n` (QUEUED) and, in the same transaction, the outbox event that has the
        notifications consumer send it."""

    async def opted_out(self, emails: Iterable[str]) -> set[str]: ...
    async def opt_out(self, email: str, *, at: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. application/pdf
    data: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    """A rendered message, ready for the SMTP server."""

    message_id: str
    sender: str  # "Name <address>"
    to: str
    subject: str
    text: str
    html: str
    language: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class MailUnavailable(Exception):
    """The server could not be reached or answered 4xx: a later attempt may succeed."""


class MailRefused(Exception):
    """The server answered 5xx for this message (e.g. the recipient does not exist)."""
