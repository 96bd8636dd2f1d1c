"""Reading the outbox by stream and sequence, and pruning it past retention.

Each stream's rows are numbered gap-free in commit order (persistence/uow.py), so a reader
that asks for "sequence > n, in order" never sees a later event before an earlier one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.kernel.streams import MAX_STREAMS_PER_READ, StoredEvent
from persistence.consumers import SqlConsumers
from persistence.db import Database
from persistence.tables import OutboxRow, OutboxStreamRow, table

E = table(OutboxRow).c
H = table(OutboxStreamRow).c
_COLUMNS = (E.stream, E.sequence, E.type, E.at, E.payload)


def _event(row: Any) -> StoredEvent:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    return StoredEvent(row.stream, row.sequence, row.type, row.at,
                       payload if isinstance(payload, dict) else {})


class SqlOutbox:
    """The read side of the outbox, for subscriptions; each call is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def read(self, stream: str, *, after: int, upto: int | None = None,
                   limit: int) -> list[StoredEvent]:
        """Events of `stream` with after < sequence (≤ upto), in sequence order."""
        where = [E.stream == stream, E.sequence > after]
        if upto is not None:
            where.append(E.sequence <= upto)
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(*_COLUMNS).where(*where).order_by(
                E.sequence).limit(limit))).all()
        return [_event(r) for r in rows]

    async def read_many(self, heads: Mapping[str, int], *, limit: int) -> list[StoredEvent]:
        """Events after each stream's head, ordered by (stream, sequence), at most `limit`.

        When `limit` rows come back, the last stream in the result may have more and the
        streams sorting after it may not have been read at all; every stream before it is
        complete.
        """
        if not heads:
            return []
        if len(heads) > MAX_STREAMS_PER_READ:
            raise ValueError(f"at most {MAX_STREAMS_PER_READ} streams per read")
        where = sa.or_(*(sa.and_(E.stream == s, E.sequence > h) for s, h in sorted(heads.items())))
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(*_COLUMNS).where(where).order_by(
                E.stream, E.sequence).limit(limit))).all()
        return [_event(r) for r in rows]

    async def heads(self, streams: Iterable[str]) -> dict[str, int]:
        """The last committed sequence of each stream that has events (others are left out)."""
        names = sorted(set(streams))
        if not names:
            return {}
        async with self.db.reader.begin() as conn:
            rows = (await conn.execute(sa.select(H.stream, H.last_sequence).where(
                H.stream.in_(names)))).all()
        return {r.stream: r.last_sequence for r in rows}

    async def bounds(self, stream: str) -> tuple[int | None, int]:
        """(oldest sequence still kept or None, last committed sequence or 0) of a stream."""
        oldest = sa.select(sa.func.min(E.sequence)).where(E.stream == stream).scalar_subquery()
        head = sa.select(H.last_sequence).where(H.stream == stream).scalar_subquery()
        async with self.db.reader.begin() as conn:
            row = (await conn.execute(sa.select(oldest.label("oldest"),
                                                head.label("head")))).one()
        return row.oldest, row.head or 0

    async def oldest_after(self, heads: Mapping[str, int]) -> datetime | None:
        """When the oldest event past any of these heads was written (None: none is)."""
        if not heads:
            return None
        where = sa.or_(*(sa.and_(E.stream == s, E.sequence == h + 1)
                         for s, h in sorted(heads.items())))
        async with self.db.reader.begin() as conn:
            oldest: datetime | None = (await conn.execute(
                sa.select(sa.func.min(E.created_at)).where(where))).scalar_one()
        return oldest

    async def prune(self, *, before: datetime, batch: int = 5_000) -> int:
        """Delete events written before `before`, a batch per transaction; how many went.

        Events a durable consumer has not taken in yet stay, whatever their age (so does what
        follows them); finished consumer jobs older than `before` go too.
        """
        consumers = SqlConsumers(self.db)
        unread = await consumers.oldest_unread()
        if unread is not None and unread < before:
            before = unread
        await consumers.prune(before=before, batch=batch)
        total = 0
        while True:
            ids = sa.select(E.id).where(E.created_at < before).order_by(E.id).limit(batch)
            async with self.db.writer.begin() as conn:
                result = await conn.execute(sa.delete(table(OutboxRow)).where(
                    E.id.in_(ids.scalar_subquery())))
            total += result.rowcount
            if result.rowcount < batch:
                return total
