"""Webhook endpoints and the operator's view of consumer jobs (domain/integration/ports.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.integration import WebhookEndpoint
from domain.integration.ports import Job, JobStatus
from domain.kernel import errors
from domain.kernel.ports import Page
from persistence.consumers import JOBS, J, job_rows, page, read_events
from persistence.db import Database, insert_for
from persistence.tables import OutboxRow, WebhookEndpointRow, table

W = table(WebhookEndpointRow)
E = table(OutboxRow).c
WEBHOOKS = "webhooks"
CHUNK = 2_000  # events read per statement when redelivering since a time


def _endpoint(r: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=r.id, url=r.url, event_types=tuple(json.loads(r.event_types)),
        description=r.description, secret=r.secret, created_by=r.created_by,
        created_at=r.created_at, updated_at=r.updated_at, active=r.active,
        disabled_reason=r.disabled_reason, failing_since=r.failing_since,
        previous_secret=r.previous_secret, previous_until=r.previous_until)


def _row(e: WebhookEndpoint) -> dict[str, Any]:
    return {"id": e.id, "url": e.url, "event_types": json.dumps(list(e.event_types)),
            "description": e.description, "secret": e.secret,
            "previous_secret": e.previous_secret, "previous_until": e.previous_until,
            "active": e.active, "disabled_reason": e.disabled_reason,
            "failing_since": e.failing_since, "created_by": e.created_by,
            "created_at": e.created_at, "updated_at": e.updated_at}


def _park_pending(endpoint_id: str, reason: str, now: datetime) -> Any:
    """Park what waits for a disabled endpoint; jobs in flight are left to their holders
    (a delivery that succeeded stays delivered; the others find the endpoint disabled)."""
    return (sa.update(JOBS).where(J.consumer == WEBHOOKS, J.target == endpoint_id,
                                  J.status == JobStatus.PENDING.value,
                                  sa.or_(J.lease_until.is_(None), J.lease_until < now))
            .values(status=JobStatus.PARKED.value, parked_at=now, last_error=reason,
                    lease_owner=None, lease_until=None))


class SqlEndpoints:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, endpoint: WebhookEndpoint) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.insert(W).values(**_row(endpoint)))

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        async with self.db.reader.begin() as conn:
            row = (await conn.execute(sa.select(W).where(W.c.id == endpoint_id))).first()
        return _endpoint(row) if row is not None else None

    async def save(self, endpoint: WebhookEndpoint, *, was: datetime,
                   park_pending: str | None = None) -> None:
        """Write every field, if nobody changed the endpoint since it was read (`was`: its
        `updated_at` then); else Conflict, and nothing is written."""
        values = _row(endpoint)
        del values["id"], values["created_at"], values["created_by"]
        async with self.db.writer.begin() as conn:
            result = await conn.execute(sa.update(W).where(
                W.c.id == endpoint.id, W.c.updated_at == was).values(**values))
            if result.rowcount != 1:
                await conn.rollback()
                raise errors.Conflict("the endpoint changed meanwhile (disabled by a failing "
                                      "receiver, or edited): read it again and retry",
                                      field=["id"])
            if park_pending is not None:
                await conn.execute(_park_pending(endpoint.id, park_pending, endpoint.updated_at))

    async def delete(self, endpoint_id: str) -> bool:
        """The endpoint and its delivery log (nothing more will be sent to it)."""
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.delete(JOBS).where(J.consumer == WEBHOOKS,
                                                     J.target == endpoint_id))
            result = await conn.execute(sa.delete(W).where(W.c.id == endpoint_id))
        return bool(result.rowcount)

    async def all(self) -> list[WebhookEndpoint]:
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(W).order_by(W.c.created_at, W.c.id))).all()
        return [_endpoint(r) for r in rows]

    async def failed(self, endpoint_id: str, *, now: datetime,
                     disable_after_seconds: float) -> str | None:
        """Note a failed delivery; disable the endpoint (parking its pending deliveries)
        once it has failed without a success for longer than allowed. The reason, if so."""
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.update(W).where(W.c.id == endpoint_id,
                                                  W.c.failing_since.is_(None))
                               .values(failing_since=now))
            since = (await conn.execute(sa.select(W.c.failing_since, W.c.active).where(
                W.c.id == endpoint_id))).first()
            if since is None or not since.active or since.failing_since is None:
                return None
            if (now - since.failing_since).total_seconds() < disable_after_seconds:
                return None
        hours = disable_after_seconds / 3600
        began = since.failing_since.strftime("%Y-%m-%d %H:%M")
        return await self.disable(endpoint_id, f"failing since {began} UTC, more than "
                                  f"{hours:g} h", now=now)

    async def succeeded(self, endpoint_id: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.update(W).where(W.c.id == endpoint_id,
                                                  W.c.failing_since.is_not(None))
                               .values(failing_since=None))

    async def disable(self, endpoint_id: str, reason: str, *, now: datetime) -> str | None:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(sa.update(W).where(W.c.id == endpoint_id, W.c.active)
                                        .values(active=False, disabled_reason=reason[:500],
                                                updated_at=now))
            if not result.rowcount:
                return None
            await conn.execute(_park_pending(endpoint_id, f"endpoint disabled: {reason}", now))
        return reason


class SqlOperatorJobs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, *, consumer: str, target: str | None, statuses: Sequence[JobStatus],
                   first: int, after: int | None) -> Page[Job]:
        """Newest first (the log an operator reads); `after` is the last id of a page."""
        where: list[sa.ColumnElement[bool]] = (
            [J.status.in_([s.value for s in statuses])] if statuses else [])
        if consumer != "*":
            where.append(J.consumer == consumer)
        if target is not None:
            where.append(J.target == target)
        query = sa.select(JOBS).where(*where)
        if after is not None:
            query = query.where(J.id < after)
        async with self.db.reader.begin() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(JOBS).where(
                *where))).scalar_one()
            rows = (await conn.execute(query.order_by(J.id.desc()).limit(first + 1))).all()
        return page(list(rows), first, total)

    async def retry(self, *, consumer: str, ids: Sequence[int], now: datetime) -> int:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                sa.update(JOBS).where(J.consumer == consumer, J.id.in_(list(ids)),
                                      J.status.in_([JobStatus.PARKED.value,
                                                    JobStatus.SKIPPED.value]))
                .values(status=JobStatus.PENDING.value, attempts=0, next_attempt_at=now,
                        parked_at=None, done_at=None))
        return int(result.rowcount)

    async def skip(self, *, consumer: str, ids: Sequence[int], now: datetime) -> int:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                sa.update(JOBS).where(J.consumer == consumer, J.id.in_(list(ids)),
                                      J.status == JobStatus.PARKED.value)
                .values(status=JobStatus.SKIPPED.value, done_at=now))
        return int(result.rowcount)

    async def resolved(self, *, consumer: str, partition: str, now: datetime) -> int:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                sa.update(JOBS).where(J.consumer == consumer, J.partition == partition,
                                      J.status == JobStatus.PARKED.value)
                .values(status=JobStatus.DONE.value, done_at=now))
        return int(result.rowcount)

    async def redeliver(self, *, endpoint: WebhookEndpoint, ids: Sequence[int] | None,
                        since: datetime | None, now: datetime) -> int:
        again = {"status": JobStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
                 "parked_at": None, "done_at": None, "lease_owner": None, "lease_until": None}
        async with self.db.writer.begin() as conn:
            if ids is not None:
                result = await conn.execute(sa.update(JOBS).where(
                    J.consumer == WEBHOOKS, J.target == endpoint.id, J.id.in_(list(ids)),
                    J.status != JobStatus.PENDING.value).values(**again))
                return int(result.rowcount)
            assert since is not None
            queued = int((await conn.execute(sa.update(JOBS).where(
                J.consumer == WEBHOOKS, J.target == endpoint.id, J.event_at >= since,
                J.status != JobStatus.PENDING.value).values(**again))).rowcount)
            # events it never got a job for (written while it was disabled, or before it
            # existed) come from the outbox, as far as it still reaches back
            have = sa.select(J.event_id).where(J.consumer == WEBHOOKS, J.target == endpoint.id)
            last, added = 0, 0
            while True:  # in chunks: a bounded IN list per statement
                found = await read_events(conn, E.at >= since, E.sequence > last,
                                          E.event_id.not_in(have), limit=CHUNK)
                wanted = [e for e in found if endpoint.wants(e.type)]
                if wanted:
                    await conn.execute(insert_for(conn, JOBS).on_conflict_do_nothing(),
                                       job_rows(WEBHOOKS, wanted, [(endpoint.id,)] * len(wanted),
                                                now=now))
                added += len(wanted)
                if len(found) < CHUNK:
                    break
                last = found[-1].position
        return queued + added


class SqlIntegrationStore:
    def __init__(self, db: Database) -> None:
        self._endpoints = SqlEndpoints(db)
        self._jobs = SqlOperatorJobs(db)

    @property
    def endpoints(self) -> SqlEndpoints:
        return self._endpoints

    @property
    def jobs(self) -> SqlOperatorJobs:
        return self._jobs
