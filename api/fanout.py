"""Cross-process fan-out, behind our own small interface over `broadcaster`'s backends.

Backends: memory:// (one process, the embedded default), redis://, postgres://. Messages are
references (stream and sequence), far below PostgreSQL's 8000-byte NOTIFY limit; subscribers
read the events themselves from the outbox, so a lost message costs latency, never an event.

What we add to broadcaster:
- bounded queues per subscriber: one that falls `queue_size` messages behind loses them and
  is handed `GAP` instead, meaning "you may have missed messages: look in storage";
- a watchdog: the listener proves it is alive by hearing its own heartbeat through the
  backend; when it does not (a dropped Redis or PostgreSQL connection, a dead listener task),
  the backend is reconnected, subscriptions are renewed and every subscriber gets `GAP`;
- one lock around backend calls, since the PostgreSQL backend publishes on the connection it
  listens on and asyncpg allows one operation at a time on a connection.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from broadcaster._backends.postgres import PostgresBackend
from broadcaster._backends.redis import RedisBackend

log = logging.getLogger("promessa.fanout")
MAX_MESSAGE_BYTES = 1024


class Gap:
    """Marker in a subscription: messages may have been lost; re-read the source of truth."""

    def __repr__(self) -> str:
        return "GAP"


GAP = Gap()


class _RedisBackend(RedisBackend):
    """broadcaster 0.3.1 wakes its listener before SUBSCRIBE completes; redis-py's `listen()`
    then finds no subscription, returns at once, and the listener sleeps forever (messages are
    silently lost). Subscribing first, then waking the listener, closes that race."""

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._ready.set()

    async def disconnect(self) -> None:
        listener = self._listener
        try:
            await super().disconnect()
        finally:
            if listener is not None and listener.done() and not listener.cancelled():
                listener.exception()  # it died with the connection; already handled


SCHEMES = {"redis": _RedisBackend, "rediss": _RedisBackend, "postgres": PostgresBackend,
           "postgresql": PostgresBackend, "memory": MemoryBackend}


def _backend_class(url: str) -> type[BroadcastBackend]:
    scheme = url.partition("://")[0]
    if scheme not in SCHEMES or "://" not in url:
        raise ValueError(f"unsupported fan-out URL {url!r}: use memory://, redis:// or "
                         "postgres://")
    return SCHEMES[scheme]


class _Inbox:
    """A subscriber's bounded queue; on overflow everything queued is replaced by GAP."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: deque[str | Gap] = deque()
        self.ready = asyncio.Event()
        self.overflows = 0

    def put(self, item: str | Gap) -> None:
        if len(self.items) >= self.limit:
            self.items.clear()
            self.overflows += 1
            item = GAP
        if not (item is GAP and self.items and self.items[-1] is GAP):
            self.items.append(item)
        self.ready.set()

    async def get(self) -> str | Gap:
        while not self.items:
            self.ready.clear()
            await self.ready.wait()
        return self.items.popleft()


class Fanout:
    def __init__(self, url: str, *, queue_size: int = 10_000, heartbeat_seconds: float = 2.0,
                 heartbeat_timeout: float = 6.0, connect_timeout: float = 5.0) -> None:
        # broadcaster's postgres backend hands the URL to asyncpg, which wants no driver suffix
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")
        self._backend_class = _backend_class(self.url)  # refuse a bad URL now, not at open
        self.queue_size = queue_size
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self.connected = False
        self.reconnects = 0
        self._heartbeat_channel = f"promessa_hb_{uuid.uuid4().hex[:16]}"
        self._subscribers: dict[str, set[_Inbox]] = {}
        self._backend: BroadcastBackend | None = None
        self._listener: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._last_beat = 0.0

    # --- lifecycle ----------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect and start the watchdog. A backend that cannot be reached now is not fatal:
        the watchdog keeps trying at every beat, and `/readyz` says not ready meanwhile."""
        try:
            await self._connect()
        except Exception as exc:  # noqa: BLE001 - any connection failure: retried by the watchdog
            log.warning("fan-out backend unreachable at start (%r); retrying", exc)
        self.connected = True
        self._watchdog = asyncio.create_task(self._watch(), name="fanout-watchdog")

    async def close(self) -> None:
        if not self.connected:
            return
        self.connected = False
        for task in (self._watchdog, self._listener):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
        await self._drop_backend()
        for inboxes in self._subscribers.values():
            for inbox in inboxes:
                inbox.put(GAP)

    async def _connect(self) -> None:
        backend = self._backend_class(self.url)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await backend.connect()
                for channel in [self._heartbeat_channel, *sorted(self._subscribers)]:
                    await backend.subscribe(channel)
        except BaseException:
            with suppress(Exception):
                await asyncio.wait_for(backend.disconnect(), self.connect_timeout)
            raise
        self._backend = backend
        self._last_beat = asyncio.get_running_loop().time()
        self._listener = asyncio.create_task(self._listen(backend), name="fanout-listener")

    async def _drop_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            with suppress(Exception):
                await asyncio.wait_for(backend.disconnect(), self.connect_timeout)

    async def _listen(self, backend: BroadcastBackend) -> None:
        loop = asyncio.get_running_loop()
        while True:
            event = await backend.next_published()
            if event.channel == self._heartbeat_channel:
                self._last_beat = loop.time()
                continue
            for inbox in list(self._subscribers.get(event.channel, ())):
                inbox.put(event.message)

    # --- the watchdog -------------------------------------------------------------------------
    def healthy(self) -> bool:
        loop = asyncio.get_running_loop()
        return (self._backend is not None and self._listener is not None
                and not self._listener.done()
                and loop.time() - self._last_beat < self.heartbeat_timeout)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if self.healthy():
                try:
                    await self._call("publish", self._heartbeat_channel, "beat")
                    continue
                except Exception as exc:  # noqa: BLE001 - any backend failure: reconnect
                    log.warning("fan-out heartbeat failed: %r", exc)
            await self._reconnect()

    async def _reconnect(self) -> None:
        log.warning("fan-out listener unhealthy; reconnecting to %s", self.url.split("@")[-1])
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        async with self._lock:
            await self._drop_backend()
            try:
                await self._connect()
            except Exception as exc:  # noqa: BLE001 - try again at the next beat
                log.warning("fan-out reconnect failed: %r", exc)
                return
        self.reconnects += 1
        for inboxes in self._subscribers.values():
            for inbox in inboxes:
                inbox.put(GAP)

    # --- publishing and subscribing -----------------------------------------------------------
    async def _call(self, method: str, *args: Any) -> None:
        async with self._lock:
            if self._backend is None:
                raise ConnectionError("fan-out backend is not connected")
            await getattr(self._backend, method)(*args)

    async def publish(self, channel: str, message: str) -> None:
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            raise ValueError(f"fan-out messages carry references, at most {MAX_MESSAGE_BYTES} "
                             "bytes")
        await self._call("publish", channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str | Gap]]:
        """Messages of `channel` from now on; GAP where some may have been lost."""
        inbox = _Inbox(self.queue_size)
        first = channel not in self._subscribers
        self._subscribers.setdefault(channel, set()).add(inbox)
        try:
            if first:
                await self._call("subscribe", channel)
        except BaseException:
            self._forget(channel, inbox)
            raise

        async def messages() -> AsyncIterator[str | Gap]:
            while True:
                yield await inbox.get()

        try:
            yield messages()
        finally:
            if self._forget(channel, inbox) and self.connected:
                with suppress(Exception):
                    await self._call("unsubscribe", channel)

    def _forget(self, channel: str, inbox: _Inbox) -> bool:
        """Remove a subscriber; True when it was the channel's last."""
        inboxes = self._subscribers.get(channel, set())
        inboxes.discard(inbox)
        if not inboxes:
            self._subscribers.pop(channel, None)
            return True
        return False
