"""Durable outbox consumers, the storage side: positions, jobs, leases.

Every event is also written to the `all` stream (persistence/uow.py), numbered gap-free in
commit order: a consumer's position is the last `all` sequence it has taken in, so reading
"after my position, in order" never skips an event even when transactions commit out of the
order they began. Taking in (`fan_in`) copies each new event into one job per target (the
broker: one; webhooks: one per endpoint that wants it) and moves the position in the same
transaction, guarded by the old position, so two processes never take in twice.

A job is handed out (`claim`) only when no earlier job of its consumer, target and partition
(the order, for an order's events) is still pending, and only under a lease: one process at a
time works on it, and a killed process's lease expires so another takes it over. PostgreSQL
claims with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite has one
writer at a time and needs no more. The outcome is written only by the lease's holder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.integration.ports import Job, JobStatus
from domain.kernel.events import ALL_STREAM
from domain.kernel.ports import Page
from persistence.db import Database, insert_for
from persistence.tables import (
    ConsumerJobRow,
    ConsumerPositionRow,
    OutboxRow,
    OutboxStreamRow,
    table,
)

E = table(OutboxRow).c
J = table(ConsumerJobRow).c
P = table(ConsumerPositionRow).c
JOBS = table(ConsumerJobRow)
MAX_ERROR = 1000


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event taken in from the `all` stream, with its first copy's stream and sequence."""

    position: int
    event_id: str
    type: str
    at: datetime
    payload: dict[str, Any]
    raw: str
    stream: str
    sequence: int
    created_at: datetime

    @property
    def partition(self) -> str:
        """What orders its jobs: the order for an order's events, the SKU for stock."""
        if isinstance(order := self.payload.get("order"), str):
            return f"order:{order}"
        if isinstance(sku := self.payload.get("sku"), str):
            return f"sku:{sku}"
        return self.stream


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job handed to this process under a lease."""

    id: int
    target: str
    event_id: str
    type: str
    partition: str
    position: int
    stream: str
    sequence: int
    at: datetime
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt: delivered, or failed (retry at `retry_at`, or park)."""

    job_id: int
    ok: bool
    status: int | None = None
    error: str | None = None
    retry_at: datetime | None = None  # None on failure: park it


Route = Callable[[list[NewEvent]], Any]  # async: event → targets, see fan_in


EVENT_COLUMNS = (E.sequence, E.event_id, E.type, E.at, E.payload, E.created_at)


async def read_events(conn: AsyncConnection, *where: Any, limit: int) -> list[NewEvent]:
    """Events of the `all` stream matching `where`, in order, each with the stream and
    sequence of its first copy (the one subscriptions number it by)."""
    rows = (await conn.execute(sa.select(*EVENT_COLUMNS).where(E.stream == ALL_STREAM, *where)
                               .order_by(E.sequence).limit(limit))).all()
    if not rows:
        return []
    copies = (await conn.execute(sa.select(E.event_id, E.stream, E.sequence).where(
        E.event_id.in_([r.event_id for r in rows]), E.stream != ALL_STREAM)
        .order_by(E.id))).all()
    first: dict[str, tuple[str, int]] = {}
    for c in copies:
        first.setdefault(c.event_id, (c.stream, c.sequence))
    out = []
    for r in rows:
        stream, sequence = first.get(r.event_id, (ALL_STREAM, r.sequence))
        out.append(NewEvent(r.sequence, r.event_id, r.type, r.at, _payload(r.payload),
                            r.payload, stream, sequence, r.created_at))
    return out


def job_rows(consumer: str, events: Sequence[NewEvent], targets: Sequence[Sequence[str]], *,
             now: datetime) -> list[dict[str, Any]]:
    return [{"consumer": consumer, "target": target, "event_id": e.event_id,
             "event_type": e.type, "partition": e.partition, "position": e.position,
             "stream": e.stream, "sequence": e.sequence, "event_at": e.at, "payload": e.raw,
             "status": JobStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
             "created_at": now}
            for e, ts in zip(events, targets, strict=True) for target in ts]


def _payload(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class SqlConsumers:
    """The jobs of every consumer, for the processes that run them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.writer.dialect.name == "postgresql"

    async def position(self, consumer: str) -> int | None:
        async with self.db.reader.begin() as conn:
            found: int | None = (await conn.execute(sa.select(P.position).where(
                P.consumer == consumer))).scalar_one_or_none()
        return found

    async def head(self) -> int:
        """The last sequence of the `all` stream (0 before any event)."""
        h = table(OutboxStreamRow).c
        async with self.db.reader.begin() as conn:
            found = (await conn.execute(sa.select(h.last_sequence).where(
                h.stream == ALL_STREAM))).scalar_one_or_none()
        return int(found or 0)

    async def register(self, consumer: str, *, now: datetime) -> int:
        """A consumer's position, created at the stream's head the first time it runs: it
        takes in what is committed from then on, not the history."""
        if (found := await self.position(consumer)) is not None:
            return found
        head = await self.head()
        async with self.db.writer.begin() as conn:
            await conn.execute(insert_for(conn, table(ConsumerPositionRow)).values(
                consumer=consumer, position=head, updated_at=now).on_conflict_do_nothing())
        return await self.position(consumer) or 0

    async def read_new(self, after: int, *, limit: int) -> list[NewEvent]:
        """Events of the `all` stream after `after`, in order, with their first copies."""
        async with self.db.reader.begin() as conn:
            return await read_events(conn, E.sequence > after, limit=limit)

    async def fan_in(self, consumer: str, events: list[NewEvent],
                     targets: Sequence[Sequence[str]], *, after: int, now: datetime) -> bool:
        """Jobs for `events` (targets[i] for events[i]) and the position moved past them, in
        one transaction; False when another process moved the position first."""
        assert len(events) == len(targets)
        async with self.db.writer.begin() as conn:
            moved = await conn.execute(
                sa.update(table(ConsumerPositionRow))
                .where(P.consumer == consumer, P.position == after)
                .values(position=events[-1].position, updated_at=now))
            if moved.rowcount != 1:
                await conn.rollback()
                return False
            rows = job_rows(consumer, events, targets, now=now)
            if rows:
                await conn.execute(insert_for(conn, JOBS).on_conflict_do_nothing(), rows)
        return True

    def _claimable(self, consumer: str, now: datetime, limit: int) -> sa.Select[Any]:
        earlier = JOBS.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.consumer == J.consumer, earlier.c.target == J.target,
            earlier.c.partition == J.partition, earlier.c.status == JobStatus.PENDING.value,
            earlier.c.position < J.position)
        query = (sa.select(J.id).where(
            J.consumer == consumer, J.status == JobStatus.PENDING.value,
            J.next_attempt_at <= now, sa.or_(J.lease_until.is_(None), J.lease_until < now),
            ~blocked).order_by(J.position).limit(limit))
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        return query

    async def claim(self, consumer: str, *, owner: str, now: datetime, lease: timedelta,
                    limit: int, attempts: int = 1_000) -> list[Claimed]:
        """Up to `limit` jobs, each the earliest pending one of its partition, leased to
        `owner` until now + lease; their attempt is counted now (a crash counts too).

        A job whose `attempts` were all spent without an outcome (the process handling it
        died or hung each time) is parked first instead of being handed out again."""
        async with self.db.writer.begin() as conn:
            await conn.execute(sa.update(JOBS).where(
                J.consumer == consumer, J.status == JobStatus.PENDING.value,
                J.attempts >= attempts, J.lease_until.is_not(None), J.lease_until < now)
                .values(status=JobStatus.PARKED.value, parked_at=now, lease_owner=None,
                        lease_until=None, last_error=sa.func.coalesce(J.last_error, "") +
                        " (no outcome after the last attempt: the worker died or hung)"))
        ids = self._claimable(consumer, now, limit).scalar_subquery()
        stmt = (sa.update(JOBS).where(J.id.in_(ids))
                .values(lease_owner=owner, lease_until=now + lease, attempts=J.attempts + 1)
                .returning(J.id, J.target, J.event_id, J.event_type, J.partition, J.position,
                           J.stream, J.sequence, J.event_at, J.payload, J.attempts))
        async with self.db.writer.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return sorted((Claimed(r.id, r.target, r.event_id, r.event_type, r.partition,
                               r.position, r.stream, r.sequence, r.event_at,
                               _payload(r.payload), r.attempts) for r in rows),
                      key=lambda c: c.position)

    async def settle(self, outcomes: Iterable[Outcome], *, owner: str, now: datetime) -> int:
        """Write each outcome, if `owner` still holds the job's lease; how many were written."""
        done, retry, park = [], [], []
        for o in outcomes:
            error = (o.error or "")[:MAX_ERROR] or None
            if o.ok:
                done.append({"i": o.job_id, "s": o.status})
            elif o.retry_at is not None:
                retry.append({"i": o.job_id, "s": o.status, "e": error, "n": o.retry_at})
            else:
                park.append({"i": o.job_id, "s": o.status, "e": error})
        mine = sa.and_(J.id == sa.bindparam("i"), J.lease_owner == owner)
        free: dict[str, Any] = {"lease_owner": None, "lease_until": None,
                                "last_status": sa.bindparam("s")}
        written = 0
        async with self.db.writer.begin() as conn:
            for params, values in (
                    (done, {"status": JobStatus.DONE.value, "done_at": now, "last_error": None}),
                    (retry, {"next_attempt_at": sa.bindparam("n"),
                             "last_error": sa.bindparam("e")}),
                    (park, {"status": JobStatus.PARKED.value, "parked_at": now,
                            "last_error": sa.bindparam("e")})):
                if params:
                    result = await _executemany(conn, sa.update(JOBS).where(mine).values(
                        **free, **values), params)
                    written += result
        return written

    async def lag(self, consumer: str, *, now: datetime) -> tuple[int, float, int]:
        """(events behind, seconds behind, parked) for /metrics: what is not yet taken in
        plus pending jobs; the age of the oldest of them; parked jobs."""
        async with self.db.reader.begin() as conn:
            position = (await conn.execute(sa.select(P.position).where(
                P.consumer == consumer))).scalar_one_or_none()
            counts: dict[str, int] = dict((await conn.execute(
                sa.select(J.status, sa.func.count()).where(
                    J.consumer == consumer,
                    J.status.in_([JobStatus.PENDING.value, JobStatus.PARKED.value]))
                .group_by(J.status))).all())
            oldest_job = (await conn.execute(sa.select(sa.func.min(J.event_at)).where(
                J.consumer == consumer, J.status == JobStatus.PENDING.value))).scalar_one()
            untaken = 0
            oldest_untaken = None
            if position is not None:
                untaken = (await conn.execute(sa.select(sa.func.count()).where(
                    E.stream == ALL_STREAM, E.sequence > position))).scalar_one()
                oldest_untaken = (await conn.execute(sa.select(E.created_at).where(
                    E.stream == ALL_STREAM, E.sequence == position + 1))).scalar_one_or_none()
        oldest = min((t for t in (oldest_job, oldest_untaken) if t is not None), default=None)
        seconds = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        return (untaken + counts.get(JobStatus.PENDING.value, 0), seconds,
                counts.get(JobStatus.PARKED.value, 0))

    async def oldest_unread(self) -> datetime | None:
        """When the oldest event some consumer has not taken in yet was written: the outbox
        must keep it (and everything after) whatever its retention says."""
        async with self.db.reader.begin() as conn:
            low = (await conn.execute(sa.select(sa.func.min(P.position)))).scalar_one()
            if low is None:
                return None
            # the earliest write time of any of them: times are read before the $all counter
            # is locked, so a later sequence may carry an earlier time
            found: datetime | None = (await conn.execute(sa.select(sa.func.min(E.created_at))
                                                         .where(E.stream == ALL_STREAM,
                                                                E.sequence > low))
                                      ).scalar_one()
        return found

    async def prune(self, *, before: datetime, batch: int = 5_000) -> int:
        """Forget finished jobs (delivered, skipped) done before `before`."""
        total = 0
        finished = [JobStatus.DONE.value, JobStatus.SKIPPED.value]
        while True:
            ids = (sa.select(J.id).where(J.status.in_(finished), J.done_at < before)
                   .order_by(J.id).limit(batch))
            async with self.db.writer.begin() as conn:
                result = await conn.execute(sa.delete(JOBS).where(
                    J.id.in_(ids.scalar_subquery())))
            total += result.rowcount
            if result.rowcount < batch:
                return total


async def _executemany(conn: AsyncConnection, stmt: Any, params: list[dict[str, Any]]) -> int:
    result = await conn.execute(stmt, params)
    return int(result.rowcount or 0)


def to_job(r: Any) -> Job:
    return Job(id=r.id, consumer=r.consumer, target=r.target, event_id=r.event_id,
               event_type=r.event_type, status=JobStatus(r.status), attempts=r.attempts,
               next_attempt_at=r.next_attempt_at, created_at=r.created_at,
               last_status=r.last_status, last_error=r.last_error, done_at=r.done_at,
               parked_at=r.parked_at)


def page(rows: list[Any], first: int, total: int) -> Page[Job]:
    items = [to_job(r) for r in rows[:first]]
    return Page(items=items, total_count=total, has_next=len(rows) > first,
                cursors=[str(j.id) for j in items])
