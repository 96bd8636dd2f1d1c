"""The unit of work: one write transaction, its events written to the outbox on commit."""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction
from sqlalchemy.sql.dml import ReturningInsert

from domain.kernel import events
from domain.kernel.ports import Clock
from persistence.catalog import SqlCatalogRepository
from persistence.db import Database
from persistence.documents import SqlDocumentStore
from persistence.idempotency import SqlIdempotencyRepository
from persistence.inventory import SqlInventoryRepository
from persistence.orders import SqlOrderRepository
from persistence.returns import SqlReturnRepository
from persistence.sourcing import SqlSourcingRepository
from persistence.tables import OutboxRow, OutboxStreamRow, table

log = logging.getLogger(__name__)

# Told (stream -> last sequence written) once a transaction with events has committed.
CommitHook = Callable[[dict[str, int]], None]


class SqlUnitOfWork:
    """`async with uow:` … `await uow.commit()`; leaving without commit rolls back.

    `on_commit` hears of the streams a committed transaction advanced, so subscribers in this
    process learn at once; it runs after the commit and can never undo or fail it.
    """

    # set on entering; typed here so the class satisfies domain.ports.UnitOfWork
    catalog: SqlCatalogRepository
    inventory: SqlInventoryRepository
    orders: SqlOrderRepository
    idempotency: SqlIdempotencyRepository
    sourcing: SqlSourcingRepository
    returns: SqlReturnRepository
    documents: SqlDocumentStore

    def __init__(self, db: Database, clock: Clock, *, on_commit: CommitHook | None = None
                 ) -> None:
        self.db, self.clock, self.on_commit = db, clock, on_commit
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._events: list[events.Event] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        self._conn = await self.db.writer.connect()
        try:
            self._tx = await self._conn.begin()
        except BaseException:
            await self._conn.close()
            raise
        now = self.clock.now()
        self.catalog = SqlCatalogRepository(self._conn, now)
        self.inventory = SqlInventoryRepository(self._conn, now)
        self.orders = SqlOrderRepository(self._conn, now)
        self.idempotency = SqlIdempotencyRepository(self._conn, now)
        self.sourcing = SqlSourcingRepository(self._conn, now)
        self.returns = SqlReturnRepository(self._conn, now)
        self.documents = SqlDocumentStore(self._conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._conn is not None and self._tx is not None
        try:
            if not self.committed and self._tx.is_active:
                await self._tx.rollback()
        finally:
            await self._conn.close()

    def emit(self, *new: events.Event) -> None:
        self._events.extend(new)

    async def commit(self) -> None:
        assert self._conn is not None and self._tx is not None
        heads: dict[str, int] = {}
        if self._events:
            heads = await write_outbox(self._conn, self._events, now=self.clock.now())
        await self._tx.commit()
        self.committed = True
        if heads and self.on_commit is not None:
            try:
                self.on_commit(heads)
            except Exception:  # noqa: BLE001 - committed is committed; subscribers poll too
                log.exception("commit hook failed for %s", sorted(heads))


_STREAMS = table(OutboxStreamRow)


def _bump(stmt: postgresql.Insert | sqlite.Insert) -> ReturningInsert[Any, Any]:
    return stmt.on_conflict_do_update(
        index_elements=["stream"],
        set_={"last_sequence": _STREAMS.c.last_sequence + stmt.excluded.last_sequence},
    ).returning(_STREAMS.c.stream, _STREAMS.c.last_sequence)


BUMP_STREAMS = {True: _bump(postgresql.insert(_STREAMS)),  # by "is PostgreSQL"
                False: _bump(sqlite.insert(_STREAMS))}
INSERT_OUTBOX = sa.insert(table(OutboxRow))


async def write_outbox(conn: AsyncConnection, new: list[events.Event], *,
                       now: datetime) -> dict[str, int]:
    """Append events to their streams and to `all`, numbering each stream gap-free from 1.

    The stream counters are bumped in one statement, in sorted order; the row locks they take
    are held to commit, so numbers are handed out in commit order within each stream. Returns
    each stream's last sequence.
    """
    counts = Counter(stream for event in new for stream in (*event.streams, events.ALL_STREAM))
    # one statement however many streams: a prebuilt single-row upsert run with a list of
    # parameter sets, which SQLAlchemy sends as one multi-row INSERT … RETURNING
    result = await conn.execute(BUMP_STREAMS[conn.dialect.name == "postgresql"], [
        {"stream": s, "last_sequence": counts[s]} for s in sorted(counts)])
    last = {row.stream: row.last_sequence for row in result.all()}
    following = {s: last[s] - counts[s] + 1 for s in counts}
    rows = []
    for event in new:
        event_id = str(uuid.uuid4())
        payload = json.dumps(event.payload, separators=(",", ":"), default=str)
        for stream in (*event.streams, events.ALL_STREAM):
            rows.append({"event_id": event_id, "stream": stream, "sequence": following[stream],
                         "type": event.type, "at": event.at, "payload": payload,
                         "created_at": now})
            following[stream] += 1
    await conn.execute(INSERT_OUTBOX, rows)
    return last


if TYPE_CHECKING:
    import domain.ports
    from persistence.reads import SqlReader

    def _serves_every_port(db: Database, clock: Clock
                           ) -> tuple[domain.ports.UnitOfWork, domain.ports.Reader]:
        """For the type checker only: the SQL adapters implement the domain's ports (the
        union of every context's), so each use case can be handed them."""
        return SqlUnitOfWork(db, clock), SqlReader(db)
