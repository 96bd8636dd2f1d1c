"""Notification use cases: an agent sends a message again."""

from __future__ import annotations

import dataclasses
import uuid

from domain import access
from domain.access import Principal
from domain.kernel import errors
from domain.kernel.ports import Clock
from domain.notifications import Notification, Status, resendable
from domain.notifications.ports import NotificationStore

RESEND_POSITION = 2**62  # after every event of the same instant


async def resend(store: NotificationStore, notification_id: str, *, principal: Principal,
                 clock: Clock) -> Notification:
    """A copy of a sent (or recorded) message, QUEUED for the notifications consumer with a
    Message-ID of its own: the customer gets it again, and the order shows both."""
    access.require(principal, "notifications.resend")
    original = await store.get(notification_id)
    if original is None:
        raise errors.NotFound(f"no notification {notification_id}", field=["id"])
    resendable(original)
    new_id = str(uuid.uuid4())
    domain = original.message_id.rpartition("@")[2].rstrip(">") or "promessa.invalid"
    copy = dataclasses.replace(
        original, id=new_id, event_id=f"resend:{new_id}", status=Status.QUEUED,
        created_at=clock.now(), message_id=f"<resend.{new_id}@{domain}>", sent_at=None,
        attempts=0, error=None, resend_of=original.id, position=RESEND_POSITION)
    await store.queue_resend(copy)
    return copy
