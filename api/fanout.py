"""Cross-process fan-out, behind our own small interface over `broadcaster`.

Backends: memory:// (one process, the embedded default), redis://, postgres://. Messages are
references (stream and sequence), far below PostgreSQL's 8000-byte NOTIFY limit; subscribers
read the events themselves from the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from broadcaster import Broadcast
from broadcaster._backends.redis import RedisBackend

MAX_MESSAGE_BYTES = 1024


class _RedisBackend(RedisBackend):
    """broadcaster 0.3.1 wakes its listener before SUBSCRIBE completes; redis-py's `listen()`
    then finds no subscription, returns at once, and the listener sleeps forever (messages are
    silently lost). Subscribing first, then waking the listener, closes that race."""

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._ready.set()


def _broadcast(url: str) -> Broadcast:
    if url.startswith(("redis://", "rediss://")):
        return Broadcast(backend=_RedisBackend(url))
    return Broadcast(url)


class Fanout:
    def __init__(self, url: str) -> None:
        # broadcaster's postgres backend hands the URL to asyncpg, which wants no driver suffix
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")
        self._broadcast = _broadcast(self.url)
        self.connected = False

    async def open(self) -> None:
        await self._broadcast.connect()
        self.connected = True

    async def close(self) -> None:
        if self.connected:
            self.connected = False
            await self._broadcast.disconnect()

    async def publish(self, channel: str, message: str) -> None:
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            raise ValueError(f"fan-out messages carry references, at most {MAX_MESSAGE_BYTES} "
                             "bytes")
        await self._broadcast.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        async with self._broadcast.subscribe(channel) as subscriber:
            async def messages() -> AsyncIterator[str]:
                async for event in subscriber:
                    yield event.message
            yield messages()
