"""The hub against a fake outbox, where the test decides when the pump may read: the seam
between replay and live, a slow subscriber, lost hints, pruning under a subscriber's feet."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from api.realtime import hub as hub_module
from api.realtime.hub import Hub
from domain.kernel import errors
from domain.kernel.streams import StoredEvent
from tests.api.realtime import until

pytestmark = pytest.mark.anyio
AT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


class FakeOutbox:
    """Streams in memory; `gate` holds the pump's reads back while it is clear."""

    def __init__(self) -> None:
        self.events: dict[str, list[StoredEvent]] = {}
        self.last: dict[str, int] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.many_reads: list[dict[str, int]] = []

    def commit(self, stream: str, n: int = 1) -> int:
        for _ in range(n):
            self.last[stream] = self.last.get(stream, 0) + 1
            self.events.setdefault(stream, []).append(
                StoredEvent(stream, self.last[stream], "T", AT, {}))
        return self.last[stream]

    def prune(self, stream: str, *, upto: int) -> None:
        self.events[stream] = [e for e in self.events[stream] if e.sequence > upto]

    async def read(self, stream, *, after, upto=None, limit):
        await asyncio.sleep(0)
        found = [e for e in self.events.get(stream, [])
                 if e.sequence > after and (upto is None or e.sequence <= upto)]
        return found[:limit]

    async def read_many(self, heads, *, limit):
        await self.gate.wait()
        self.many_reads.append(dict(heads))
        found = [e for s in sorted(heads) for e in self.events.get(s, [])
                 if e.sequence > heads[s]]
        return found[:limit]

    async def heads(self, streams):
        return {s: self.last[s] for s in streams if s in self.last}

    async def bounds(self, stream):
        kept = self.events.get(stream, [])
        return (kept[0].sequence if kept else None), self.last.get(stream, 0)


@pytest.fixture
async def outbox():
    return FakeOutbox()


async def _hub(outbox, **kw) -> Hub:
    hub = Hub(outbox, poll_seconds=kw.pop("poll_seconds", 60), **kw)
    hub.start()
    return hub


class Reader:
    """Consumes one subscription in its own task, as a WebSocket would; `paused` stops it
    between batches (a consumer that stops reading)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.queue: asyncio.Queue = asyncio.Queue()
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for batch in self.stream:
                for event in batch.events:
                    self.queue.put_nowait(event.sequence)
                await self.resumed.wait()
            self.queue.put_nowait("end")
        except Exception as exc:  # noqa: BLE001 - handed to the test
            self.queue.put_nowait(exc)

    async def take(self, n: int, *, within: float = 5) -> list[int]:
        got: list[int] = []
        async with asyncio.timeout(within):
            while len(got) < n:
                item = await self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                got.append(item)
        return got

    async def nothing(self, *, wait: float = 0.1) -> None:
        await asyncio.sleep(wait)
        assert self.queue.empty(), self.queue.get_nowait()

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _reader(hub: Hub, stream: str, after: str | None) -> Reader:
    before = hub.subscribers
    reader = Reader(hub.follow(await hub.begin(stream, after)))
    await until(lambda: hub.subscribers > before, within=2)
    return reader


async def test_a_subscriber_joining_while_the_pump_lags_gets_each_event_once(outbox):
    outbox.commit("s", 5)
    hub = await _hub(outbox)
    first = await _reader(hub, "s", None)
    try:
        outbox.gate.clear()  # the pump will not read yet
        hub.hint({"s": outbox.commit("s", 3)})  # 6-8 committed; the tail stays at 5
        second = await _reader(hub, "s", None)  # from now: after 8
        outbox.gate.set()
        assert await first.take(3) == [6, 7, 8]
        await second.nothing()
        hub.hint({"s": outbox.commit("s")})
        assert await second.take(1) == [9]
        assert await first.take(1) == [9]
        await second.close()
    finally:
        await first.close()
        await hub.stop()


async def test_a_subscriber_that_stops_reading_is_switched_to_catch_up_and_misses_nothing(
        outbox):
    outbox.commit("s", 3)
    hub = await _hub(outbox, queue_limit=10)
    reader = await _reader(hub, "s", "0")
    try:
        assert await reader.take(3) == [1, 2, 3]
        reader.resumed.clear()
        for _ in range(50):
            hub.hint({"s": outbox.commit("s")})
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert hub.stats.lagged >= 1
        assert hub.stats.most_queued <= 10
        reads_before = hub.stats.catchup_reads
        reader.resumed.set()
        assert await reader.take(50) == list(range(4, 54))
        assert hub.stats.catchup_reads > reads_before
        await reader.nothing()
    finally:
        await reader.close()
        await hub.stop()


async def test_events_pruned_before_a_lagging_subscriber_read_them_end_its_stream(outbox):
    outbox.commit("s", 1)
    hub = await _hub(outbox, queue_limit=10)
    reader = await _reader(hub, "s", "0")
    try:
        assert await reader.take(1) == [1]
        reader.resumed.clear()
        for _ in range(30):
            hub.hint({"s": outbox.commit("s")})
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        outbox.prune("s", upto=25)
        reader.resumed.set()
        with pytest.raises(errors.ResyncRequired):
            await reader.take(30)
    finally:
        await reader.close()
        await hub.stop()


async def test_one_pump_read_serves_every_followed_stream(outbox):
    hub = await _hub(outbox)
    readers = [await _reader(hub, name, None) for name in ("a", "b", "c")]
    try:
        await asyncio.sleep(0.05)
        outbox.gate.clear()
        hub.hint({name: outbox.commit(name, 2) for name in ("a", "b", "c")})
        await asyncio.sleep(0.05)
        outbox.many_reads.clear()
        outbox.gate.set()
        for reader in readers:
            assert await reader.take(2) == [1, 2]
        assert outbox.many_reads == [{"a": 0, "b": 0, "c": 0}]
    finally:
        for reader in readers:
            await reader.close()
        await hub.stop()


async def test_a_read_cut_by_its_limit_is_continued_for_every_stream(outbox, monkeypatch):
    monkeypatch.setattr(hub_module, "READ_BATCH", 3)
    hub = await _hub(outbox)
    a, b = await _reader(hub, "a", None), await _reader(hub, "b", None)
    try:
        hub.hint({"a": outbox.commit("a", 5), "b": outbox.commit("b", 4)})
        assert await a.take(5) == [1, 2, 3, 4, 5]
        assert await b.take(4) == [1, 2, 3, 4]
        assert len(outbox.many_reads) >= 3
    finally:
        await a.close()
        await b.close()
        await hub.stop()


async def test_the_poll_delivers_events_whose_hints_were_lost(outbox):
    hub = await _hub(outbox, poll_seconds=0.05)
    reader = await _reader(hub, "s", None)
    try:
        outbox.commit("s", 2)  # committed elsewhere; no hint reaches us
        assert await reader.take(2, within=2) == [1, 2]
    finally:
        await reader.close()
        await hub.stop()


async def test_a_tail_is_dropped_with_its_last_subscriber(outbox):
    hub = await _hub(outbox)
    reader = await _reader(hub, "s", None)
    await asyncio.sleep(0.05)
    assert outbox.many_reads == [{"s": 0}]  # the look on following
    await reader.close()
    assert hub.subscribers == 0
    hub.hint({"s": outbox.commit("s")})
    await asyncio.sleep(0.05)
    assert outbox.many_reads == [{"s": 0}]  # nobody follows: no read
    await hub.stop()


async def test_stopping_the_hub_ends_every_stream(outbox):
    hub = await _hub(outbox)
    reader = await _reader(hub, "s", None)
    await hub.stop()
    assert await asyncio.wait_for(reader.queue.get(), 2) == "end"
