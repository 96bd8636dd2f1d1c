"""The unit of work keeps nothing unless committed, and numbers each outbox stream from 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from domain.inventory import LedgerEntry
from domain.kernel import events
from persistence.db import Database
from persistence.uow import SqlUnitOfWork
from tests.conftest import FixedClock

pytestmark = pytest.mark.anyio
AT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


async def _rows(db: Database, sql: str) -> list:
    async with db.reader.connect() as conn:
        return (await conn.execute(sa.text(sql))).all()


async def test_leaving_without_commit_rolls_everything_back(db_url):
    db = Database(db_url)
    try:
        async with SqlUnitOfWork(db, FixedClock(AT)) as tx:
            await tx.inventory.append_ledger([LedgerEntry("X", "Y", 1, 0, "T", None, "t", AT)])
            tx.emit(events.Event("SOMETHING", AT, ("s",)))
        assert await _rows(db, "SELECT * FROM inventory_ledger") == []
        assert await _rows(db, "SELECT * FROM outbox") == []
    finally:
        await db.dispose()


async def test_an_exception_inside_rolls_back_and_propagates(db_url):
    db = Database(db_url)
    try:
        with pytest.raises(ZeroDivisionError):
            async with SqlUnitOfWork(db, FixedClock(AT)) as tx:
                await tx.inventory.append_ledger(
                    [LedgerEntry("X", "Y", 1, 0, "T", None, "t", AT)])
                tx.emit(events.Event("SOMETHING", AT, ("s",)))
                1 / 0  # noqa: B018
        assert await _rows(db, "SELECT * FROM inventory_ledger") == []
    finally:
        await db.dispose()


async def test_committed_events_are_numbered_per_stream_in_order(db_url):
    db = Database(db_url)
    try:
        for batch in ([("A", ("s1", "all")), ("B", ("s1", "all"))], [("C", ("s2", "all"))]):
            async with SqlUnitOfWork(db, FixedClock(AT)) as tx:
                tx.emit(*(events.Event(t, AT, streams, {"t": t}) for t, streams in batch))
                await tx.commit()
        rows = await _rows(db, "SELECT stream, sequence, type, payload FROM outbox "
                               "ORDER BY stream, sequence")
        assert [(r[0], r[1], r[2]) for r in rows] == [
            ("$all", 1, "A"), ("$all", 2, "B"), ("$all", 3, "C"),  # every event, in order
            ("all", 1, "A"), ("all", 2, "B"), ("all", 3, "C"),
            ("s1", 1, "A"), ("s1", 2, "B"), ("s2", 1, "C")]
        assert json.loads(rows[0][3]) == {"t": "A"}
    finally:
        await db.dispose()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.writer.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        assert (mode, timeout) == ("wal", 30000)
    finally:
        await db.dispose()
