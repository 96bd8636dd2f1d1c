"""One process's subscribers, fed from the outbox: one read per change, not one per subscriber.

For every stream someone in this process follows there is a `Tail`: the last sequence read
for it. When a stream may have advanced (a commit here, a hint from another process, or the
periodic poll), one pump reads the new events of all such streams in a single query and hands
the same `Batch` to each subscriber's bounded `Feed`.

A subscriber resumes from the outbox: it first reads what it missed up to where its feed
begins, then takes batches from the feed; `Cursor` drops the duplicates at that seam. A feed
that would overflow is emptied and marked lagging: its subscriber goes back to reading the
outbox until it is level again, so a slow consumer costs its own reads, never memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from domain.kernel.streams import (
    MAX_STREAMS_PER_READ,
    Cursor,
    StoredEvent,
    check_resume,
    parse_after,
)

log = logging.getLogger("promessa.realtime")
T = TypeVar("T")
READ_BATCH = 500


class OutboxReads(Protocol):
    """What the hub reads from the outbox (persistence.outbox.SqlOutbox in the app)."""

    async def read(self, stream: str, *, after: int, upto: int | None = None,
                   limit: int) -> list[StoredEvent]: ...

    async def read_many(self, heads: Mapping[str, int], *, limit: int) -> list[StoredEvent]: ...

    async def heads(self, streams: Iterable[str]) -> dict[str, int]: ...

    async def bounds(self, stream: str) -> tuple[int | None, int]: ...


class Batch:
    """Events handed to subscribers together; what they load for them is loaded once."""

    __slots__ = ("events", "_shared")

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events
        self._shared: dict[str, asyncio.Future] = {}

    async def shared(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """The result of `load()`, run once per batch whoever asks first."""
        future = self._shared.get(key)
        if future is None:
            future = self._shared[key] = asyncio.ensure_future(load())
            # whoever asked may be gone when it fails; the others get the exception
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(future)


@dataclass(eq=False)
class Feed:
    """One subscriber's queue of batches: every event after `start`, unless `lagging`."""

    limit: int
    start: int
    batches: deque[Batch] = field(default_factory=deque)
    queued: int = 0
    lagging: bool = False
    closed: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, batch: Batch, stats: Stats) -> None:
        """Queue a batch; one batch is always taken (it is shared with the other feeds), but
        more than `limit` events waiting means the subscriber is not keeping up."""
        if self.lagging:
            return
        if self.queued and self.queued + len(batch.events) > self.limit:
            self.batches.clear()
            self.queued, self.lagging = 0, True
            stats.lagged += 1
        else:
            self.batches.append(batch)
            self.queued += len(batch.events)
            stats.most_queued = max(stats.most_queued, self.queued)
        self.ready.set()

    def take(self) -> Batch:
        batch = self.batches.popleft()
        self.queued -= len(batch.events)
        return batch


@dataclass(eq=False)
class Tail:
    stream: str
    head: int  # the last sequence read from the outbox and handed to the feeds
    feeds: set[Feed] = field(default_factory=set)


@dataclass
class Stats:
    """Counters for tests, benchmarks and logs."""

    reads: int = 0  # pump reads (one query each, however many streams)
    catchup_reads: int = 0  # subscribers' own reads of the outbox
    lagged: int = 0  # feeds that overflowed and were switched to catch-up
    most_queued: int = 0  # the longest any feed has been, in events


@dataclass(frozen=True, slots=True)
class Start:
    """Where a new subscription begins: the last sequence it has seen, and the stream's head."""

    stream: str
    after: int
    head: int


async def cancel_all(tasks: list[asyncio.Task]) -> None:
    """Cancel background tasks and wait for each to end; their errors are already logged."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError, Exception):
            await task


class Hub:
    def __init__(self, outbox: OutboxReads, *, poll_seconds: float = 1.0, queue_limit: int = 1000,
                 read_concurrency: int = 4) -> None:
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self.queue_limit = queue_limit
        self.stats = Stats()
        self._tails: dict[str, Tail] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._reads = asyncio.Semaphore(read_concurrency)
        self._tasks: list[asyncio.Task] = []

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._pump(), name="hub-pump"),
                       asyncio.create_task(self._poll(), name="hub-poll")]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
        for tail in self._tails.values():
            for feed in tail.feeds:
                feed.closed = True
                feed.ready.set()

    @property
    def subscribers(self) -> int:
        return sum(len(t.feeds) for t in self._tails.values())

    def positions(self) -> dict[str, int]:
        """Every followed stream and the last sequence handed to its subscribers."""
        return {stream: tail.head for stream, tail in self._tails.items()}

    def read_up_to(self, stream: str) -> int | None:
        """The last sequence of `stream` handed to this process's subscribers (None: unfollowed)."""
        tail = self._tails.get(stream)
        return tail.head if tail else None

    # --- learning that streams advanced -------------------------------------------------------
    def hint(self, heads: Mapping[str, int]) -> None:
        """Streams may have events up to these sequences; read those someone here follows."""
        for stream, sequence in heads.items():
            tail = self._tails.get(stream)
            if tail is not None and sequence > tail.head:
                self._dirty.add(stream)
        if self._dirty:
            self._wake.set()

    def poke_all(self) -> None:
        """Hints may have been lost: look at every followed stream."""
        self._dirty.update(self._tails)
        if self._dirty:
            self._wake.set()

    async def _poll(self) -> None:
        """The safety net: whatever happened to hints, look at the heads every few moments."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            streams = sorted(self._tails)
            for i in range(0, len(streams), 500):
                try:
                    self.hint(await self.outbox.heads(streams[i:i + 500]))
                except Exception:  # noqa: BLE001 - the database may be back at the next poll
                    log.exception("polling stream heads failed")
                    break

    async def _pump(self) -> None:
        backoff = 0.05
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                streams = sorted(self._dirty)[:MAX_STREAMS_PER_READ]
                self._dirty.difference_update(streams)
                heads = {s: self._tails[s].head for s in streams if s in self._tails}
                try:
                    events = await self.outbox.read_many(heads, limit=READ_BATCH)
                except Exception:  # noqa: BLE001 - keep the streams dirty and try again
                    log.exception("reading the outbox failed")
                    self._dirty.update(heads)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.poll_seconds)
                    continue
                backoff = 0.05
                self.stats.reads += 1
                self._dispatch(heads, events, full=len(events) >= READ_BATCH)

    def _dispatch(self, heads: dict[str, int], events: list[StoredEvent], *, full: bool) -> None:
        by_stream: dict[str, list[StoredEvent]] = {}
        for event in events:
            by_stream.setdefault(event.stream, []).append(event)
        if full:  # the last stream read may have more; those after it were not reached
            last = events[-1].stream
            self._dirty.update(s for s in heads if s >= last)
        for stream, found in by_stream.items():
            tail = self._tails.get(stream)
            if tail is None or tail.head != heads[stream]:
                continue  # unfollowed (or followed anew) while we read
            tail.head = found[-1].sequence
            batch = Batch(found)
            for feed in tail.feeds:
                feed.offer(batch, self.stats)

    # --- following a stream -------------------------------------------------------------------
    async def begin(self, stream: str, after: str | None) -> Start:
        """Check where a subscriber wants to start; no `after` means from the current head."""
        position = parse_after(after)
        oldest, head = await self.outbox.bounds(stream)
        if position is None:
            return Start(stream, head, head)
        check_resume(position, head=head, oldest=oldest)
        return Start(stream, position, head)

    async def follow(self, start: Start) -> AsyncIterator[Batch]:
        """Every event of the stream after `start.after`, once each, in order, forever."""
        tail = self._tails.get(start.stream)
        if tail is None:
            # `start.head` was committed when read, so the tail is never ahead of the outbox;
            # the pump brings it level if more has been committed since.
            tail = self._tails[start.stream] = Tail(start.stream, start.head)
            self.hint({start.stream: start.head + 1})
        feed = Feed(self.queue_limit, start=tail.head)
        tail.feeds.add(feed)
        cursor = Cursor(start.after)
        try:
            while not feed.closed:
                while cursor.position < feed.start:
                    yield Batch(await self._catch_up(start.stream, cursor, upto=feed.start))
                if feed.lagging:
                    feed.lagging, feed.start = False, tail.head
                    continue
                if not feed.batches:
                    feed.ready.clear()
                    await feed.ready.wait()
                    continue
                batch = feed.take()
                fresh, hole = cursor.take(batch.events)
                if fresh:
                    yield batch if len(fresh) == len(batch.events) else Batch(fresh)
                if hole is not None:  # cannot happen unless pruned: read it, or resync
                    rest = [e for e in batch.events if e.sequence > cursor.position]
                    feed.batches.appendleft(Batch(rest))
                    feed.queued += len(rest)
                    feed.start = rest[0].sequence - 1
        finally:
            tail.feeds.discard(feed)
            if not tail.feeds and self._tails.get(start.stream) is tail:
                del self._tails[start.stream]
                self._dirty.discard(start.stream)

    async def _catch_up(self, stream: str, cursor: Cursor, *, upto: int) -> list[StoredEvent]:
        async with self._reads:
            events = await self.outbox.read(stream, after=cursor.position, upto=upto,
                                            limit=READ_BATCH)
        self.stats.catchup_reads += 1
        return cursor.replay(events, upto=upto)


__all__ = ["Batch", "Hub", "Start", "Stats"]
