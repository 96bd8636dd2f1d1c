"""Messages written to customers and the addresses that turned off non-essential updates
(domain/notifications/ports.py). Each call is one short transaction of its own: a message is
about an event that has committed already, and nothing here takes a lock an order needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.kernel import events
from domain.notifications import Kind, Notification, Status
from persistence.db import Database, insert_for
from persistence.tables import NotificationOptOutRow, NotificationRow, table
from persistence.uow import write_outbox

N, OPTOUT = table(NotificationRow), table(NotificationOptOutRow)
# the outbox event that has the consumer send a QUEUED message: internal, never published
RESEND = "NOTIFICATION_RESEND"
MAX_ERROR = 500


def _notification(r: Any) -> Notification:
    return Notification(
        id=r.id, order_number=r.order_number, event_id=r.event_id, kind=Kind(r.kind),
        to=r.to_address, subject=r.subject, language=r.language, status=Status(r.status),
        created_at=r.created_at, message_id=r.message_id, fulfillment_id=r.fulfillment_id,
        sent_at=r.sent_at, attempts=r.attempts, error=r.error, resend_of=r.resend_of,
        text=r.text, html=r.html, position=r.position,
        attachments=tuple(a for a in (r.attachments or "").split(",") if a))


def _values(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "order_number": n.order_number, "event_id": n.event_id,
            "kind": n.kind.value, "to_address": n.to, "subject": n.subject[:300],
            "language": n.language, "status": n.status.value, "message_id": n.message_id,
            "created_at": n.created_at, "sent_at": n.sent_at, "attempts": n.attempts,
            "error": n.error, "fulfillment_id": n.fulfillment_id, "resend_of": n.resend_of,
            "text": n.text, "html": n.html, "position": n.position,
            "attachments": ",".join(n.attachments)}


class SqlNotifications:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_events(self, event_ids: Iterable[str]) -> dict[str, Notification]:
        ids = sorted(set(event_ids))
        if not ids:
            return {}
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(N).where(N.c.event_id.in_(ids)))).all()
        return {r.event_id: _notification(r) for r in rows}

    async def for_orders(self, numbers: Iterable[str]) -> dict[str, list[Notification]]:
        wanted = sorted(set(numbers))
        found: dict[str, list[Notification]] = defaultdict(list)
        if not wanted:
            return found
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(N).where(N.c.order_number.in_(wanted))
                                       .order_by(N.c.order_number, N.c.created_at,
                                                 N.c.position, N.c.id))).all()
        for r in rows:
            found[r.order_number].append(_notification(r))
        return found

    async def get(self, notification_id: str) -> Notification | None:
        async with self.db.reader.begin() as conn:
            row = (await conn.execute(sa.select(N).where(N.c.id == notification_id))).first()
        return None if row is None else _notification(row)

    async def add(self, n: Notification) -> Notification:
        async with self.db.writer.begin() as conn:
            stmt = insert_for(conn, N).values(_values(n)).on_conflict_do_nothing(
                index_elements=["event_id"])
            if (await conn.execute(stmt)).rowcount:
                return n
            row = (await conn.execute(sa.select(N).where(N.c.event_id == n.event_id))).one()
        return _notification(row)

    async def mark(self, notification_id: str, status: Status, *, at: datetime,
                   error: str | None = None) -> None:
        values: dict[str, Any] = {"status": status.value, "attempts": N.c.attempts + 1,
                                  "error": error[:MAX_ERROR] if error else None}
        if status is Status.SENT:
            values["sent_at"] = at
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.update(N).where(N.c.id == notification_id).values(values))

    async def queue_resend(self, n: Notification) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.insert(N).values(_values(n)))
            await write_outbox(conn, [events.Event(
                RESEND, n.created_at, (), {"order": n.order_number, "notification": n.id})],
                now=n.created_at)

    async def opted_out(self, emails: Iterable[str]) -> set[str]:
        wanted = sorted({e.lower() for e in emails})
        if not wanted:
            return set()
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(
                sa.select(OPTOUT.c.email).where(OPTOUT.c.email.in_(wanted)))).all()
        return {r.email for r in rows}

    async def opt_out(self, email: str, *, at: datetime) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(insert_for(conn, OPTOUT).values(email=email.lower(), at=at)
                               .on_conflict_do_nothing(index_elements=["email"]))
