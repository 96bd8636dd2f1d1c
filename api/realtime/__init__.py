"""Live subscriptions: the relay between commits and subscribers, in every server process.

    commit (unit of work) ──on_commit──▶ Relay ──▶ Hub of this process (at once)
                                           └────▶ fan-out hint ──▶ Hub of every other process
    Hub ──one outbox read per change──▶ each subscriber's bounded Feed ──▶ its websocket

Hints say only "stream S has events up to N"; the events themselves are always read from the
outbox, by sequence. A hint lost (a crash between commit and publish, a backend outage, an
overflowing queue) delays delivery until the next poll of the stream heads; it never loses an
event. A background task prunes the outbox past the retention window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from api.fanout import MAX_MESSAGE_BYTES, Fanout, Gap
from api.realtime.hub import Batch, Hub, OutboxReads, Start, cancel_all
from domain.kernel.ports import Clock
from domain.kernel.streams import decode_hints, encode_hints, merge_heads

log = logging.getLogger("promessa.realtime")
HINTS_CHANNEL = "promessa_outbox"
MAX_PENDING_STREAMS = 50_000

__all__ = ["Batch", "Realtime", "Start"]


class Outbox(OutboxReads, Protocol):
    """The outbox bound to `Realtime`: the hub's reads, the pruning, and what the lag gauge
    (api/prometheus.py) asks; persistence.outbox.SqlOutbox in the app."""

    async def oldest_after(self, heads: Mapping[str, int]) -> datetime | None: ...

    async def prune(self, *, before: datetime) -> int: ...


class Realtime:
    """The hub, the relay and the pruner of one process, started and stopped together."""

    def __init__(self, fanout: Fanout, *, clock: Clock, retention: timedelta,
                 poll_seconds: float = 1.0, queue_limit: int = 1000,
                 prune_every: float = 600.0, first_prune_after: float = 60.0) -> None:
        self.fanout = fanout
        self.clock = clock
        self.retention = retention
        self.poll_seconds = poll_seconds
        self.queue_limit = queue_limit
        self.prune_every = prune_every
        self.first_prune_after = first_prune_after
        self.hub: Hub | None = None
        # memory:// reaches no other process: the hint to this one's hub is all there is to say
        self.shared = not fanout.url.startswith("memory://")
        self.outbox: Outbox | None = None  # bound in the composition root
        self.published = 0
        self.dropped_hints = 0
        self._pending: dict[str, int] = {}
        # called when another process says it committed (the outbox consumers' wake-up)
        self.heard: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def bind(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.hub = Hub(outbox, poll_seconds=self.poll_seconds, queue_limit=self.queue_limit)

    async def start(self) -> None:
        assert self.hub is not None, "bind the outbox first"
        await self.fanout.open()
        self.hub.start()
        self._tasks = [asyncio.create_task(self._publish(), name="relay-publish"),
                       asyncio.create_task(self._listen(), name="relay-listen"),
                       asyncio.create_task(self._prune(), name="outbox-prune")]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
        if self.hub is not None:
            await self.hub.stop()
        await self.fanout.close()

    # --- the relay ----------------------------------------------------------------------------
    def committed(self, heads: dict[str, int]) -> None:
        """The unit of work's commit hook: tell this process now, the others soon."""
        if self.hub is not None:
            self.hub.hint(heads)
        if not self.shared:
            return
        for stream, sequence in heads.items():
            if stream in self._pending or len(self._pending) < MAX_PENDING_STREAMS:
                merge_heads(self._pending, {stream: sequence})
            else:  # the backend is stuck; other processes' polls will find these events
                self.dropped_hints += 1
        self._wake.set()

    async def _publish(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            for message in encode_hints(pending, max_bytes=MAX_MESSAGE_BYTES):
                try:
                    await self.fanout.publish(HINTS_CHANNEL, message)
                    self.published += 1
                except Exception as exc:  # noqa: BLE001 - the hints are advisory
                    self.dropped_hints += 1
                    log.warning("publishing outbox hints failed (subscribers elsewhere will "
                                "poll): %r", exc)
                    break

    async def _listen(self) -> None:
        assert self.hub is not None
        while True:
            try:
                async with self.fanout.subscribe(HINTS_CHANNEL) as messages:
                    self.hub.poke_all()  # whatever was said while we were not listening
                    self._tell_heard()
                    async for message in messages:
                        if isinstance(message, Gap):  # the one GAP marker
                            self.hub.poke_all()
                        else:
                            self.hub.hint(decode_hints(message))
                        self._tell_heard()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - listen again; the hub polls meanwhile
                log.warning("listening for outbox hints failed: %r", exc)
            await asyncio.sleep(self.poll_seconds)

    def _tell_heard(self) -> None:
        for poke in self.heard:
            poke()

    # --- retention ----------------------------------------------------------------------------
    async def prune_once(self) -> int:
        """Delete outbox events older than the retention window; how many went."""
        assert self.outbox is not None, "bind the outbox first"
        removed = await self.outbox.prune(before=self.clock.now() - self.retention)
        if removed:
            log.info("pruned %d outbox events older than %s", removed, self.retention)
        return removed

    async def _prune(self) -> None:
        await asyncio.sleep(self.first_prune_after)
        while True:
            try:
                await self.prune_once()
            except Exception:  # noqa: BLE001 - try again next time
                log.exception("pruning the outbox failed")
            await asyncio.sleep(self.prune_every)

    # --- for resolvers ------------------------------------------------------------------------
    async def begin(self, stream: str, after: str | None) -> Start:
        assert self.hub is not None
        return await self.hub.begin(stream, after)

    def follow(self, start: Start):
        assert self.hub is not None
        return self.hub.follow(start)
