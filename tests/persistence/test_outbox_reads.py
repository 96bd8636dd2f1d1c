"""The outbox read by stream and sequence, pruned past retention, and the commit hook."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from domain.kernel import events
from persistence.db import Database
from persistence.outbox import SqlOutbox
from persistence.uow import SqlUnitOfWork
from tests.conftest import FixedClock

pytestmark = pytest.mark.anyio
AT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


async def _write(db: Database, clock, *batches, on_commit=None) -> None:
    """Each batch is one transaction of (type, streams) events."""
    for batch in batches:
        async with SqlUnitOfWork(db, clock, on_commit=on_commit) as tx:
            tx.emit(*(events.Event(t, clock.now(), streams, {"t": t}) for t, streams in batch))
            await tx.commit()


@pytest.fixture
async def db(db_url):
    database = Database(db_url)
    yield database
    await database.dispose()


async def test_a_stream_is_read_after_a_sequence_in_order_up_to_a_limit(db):
    await _write(db, FixedClock(AT), [("A", ("s1", "all")), ("B", ("s1",))],
                 [("C", ("s1", "all")), ("D", ("s2",))])
    outbox = SqlOutbox(db)
    got = await outbox.read("s1", after=0, limit=10)
    assert [(e.stream, e.sequence, e.type, e.payload) for e in got] == [
        ("s1", 1, "A", {"t": "A"}), ("s1", 2, "B", {"t": "B"}), ("s1", 3, "C", {"t": "C"})]
    assert got[0].at == AT
    assert [e.sequence for e in await outbox.read("s1", after=1, limit=1)] == [2]
    assert [e.sequence for e in await outbox.read("s1", after=1, upto=2, limit=10)] == [2]
    assert await outbox.read("s1", after=3, limit=10) == []
    assert await outbox.read("nope", after=0, limit=10) == []


async def test_many_streams_are_read_in_one_query_ordered_by_stream_then_sequence(db):
    await _write(db, FixedClock(AT), [("A", ("a", "b")), ("B", ("a", "c"))], [("C", ("b",))])
    outbox = SqlOutbox(db)
    got = await outbox.read_many({"a": 0, "b": 1, "c": 0, "z": 0}, limit=10)
    assert [(e.stream, e.sequence, e.type) for e in got] == [
        ("a", 1, "A"), ("a", 2, "B"), ("b", 2, "C"), ("c", 1, "B")]
    cut = await outbox.read_many({"a": 0, "b": 0, "c": 0}, limit=3)
    assert [(e.stream, e.sequence) for e in cut] == [("a", 1), ("a", 2), ("b", 1)]
    assert await outbox.read_many({}, limit=10) == []


async def test_heads_and_bounds_are_the_committed_last_and_the_oldest_kept(db):
    await _write(db, FixedClock(AT), [("A", ("a",)), ("B", ("a", "b"))])
    outbox = SqlOutbox(db)
    assert await outbox.heads(["a", "b", "c"]) == {"a": 2, "b": 1}
    assert await outbox.heads([]) == {}
    assert await outbox.bounds("a") == (1, 2)
    assert await outbox.bounds("c") == (None, 0)


async def test_pruning_deletes_what_was_written_before_the_cutoff_in_batches(db):
    clock = FixedClock(AT)
    await _write(db, clock, [("A", ("a",)), ("B", ("a", "b"))], [("C", ("a",))])
    clock.current = AT + timedelta(days=8)
    await _write(db, clock, [("D", ("a",))])
    outbox = SqlOutbox(db)
    assert await outbox.prune(before=AT + timedelta(days=1), batch=2) == 7  # 4 + 3 on $all
    assert [e.type for e in await outbox.read("a", after=0, limit=10)] == ["D"]
    assert await outbox.bounds("a") == (4, 4)
    assert await outbox.bounds("b") == (None, 1)  # emptied, but its numbering goes on
    assert await outbox.prune(before=AT + timedelta(days=1)) == 0


async def test_the_commit_hook_hears_each_streams_last_sequence_after_commit(db):
    heard: list[dict[str, int]] = []
    await _write(db, FixedClock(AT), [("A", ("a", "all")), ("B", ("a",))], [("C", ("all",))],
                 on_commit=heard.append)
    assert heard == [{"a": 2, "all": 1, "$all": 2}, {"all": 2, "$all": 3}]  # $all: every event


async def test_the_commit_hook_is_not_told_of_rollbacks_or_of_commits_without_events(db):
    heard: list[dict[str, int]] = []
    async with SqlUnitOfWork(db, FixedClock(AT), on_commit=heard.append) as tx:
        tx.emit(events.Event("A", AT, ("a",)))
    async with SqlUnitOfWork(db, FixedClock(AT), on_commit=heard.append) as tx:
        await tx.commit()
    assert heard == []
    assert await SqlOutbox(db).heads(["a"]) == {}


async def test_a_failing_commit_hook_does_not_undo_the_commit(db, caplog):
    def broken(_heads):
        raise RuntimeError("relay down")

    with caplog.at_level(logging.ERROR, logger="persistence.uow"):
        await _write(db, FixedClock(AT), [("A", ("a",))], on_commit=broken)
    assert [e.type for e in await SqlOutbox(db).read("a", after=0, limit=10)] == ["A"]
    assert "commit hook failed for ['$all', 'a']" in caplog.text
