"""The consumer loop: take in, claim, handle, settle — at least once, in order per partition.

One `Runner` per consumer per process. Each round it takes in the events committed since its
position (jobs for the handler's targets, persistence/consumers.py), claims a batch of jobs
under a lease (each the earliest pending job of its partition, so an order's events go out in
sequence and a failing order holds back only itself), hands them to the handler with no
database transaction open, and writes each outcome: done, retried after the handler's
backoff (with jitter), or parked after the last attempt. The event id goes with every job as
the idempotency key, so a retry after a crash (the lease expired, another process took the
job over) is harmless to a receiver that honours it.

A round starts at once when this process committed something (`poke`), else every
`poll_seconds`; a database outage is logged and waited out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from domain.integration import Backoff
from domain.kernel.ports import Clock
from persistence.consumers import Claimed, NewEvent, Outcome, SqlConsumers

log = logging.getLogger("promessa.consumers")


@dataclass(frozen=True, slots=True)
class Result:
    """What the handler made of one job. `park`: retrying cannot help (the endpoint is gone
    or disabled), park it now."""

    ok: bool
    status: int | None = None
    error: str | None = None
    park: bool = False


class Handler(Protocol):
    name: str
    backoff: Backoff

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def targets(self, events: list[NewEvent]) -> list[tuple[str, ...]]:
        """For each event, the targets that get a job ("" when the consumer has one)."""

    async def handle(self, jobs: list[Claimed]) -> list[Result]:
        """One result per job, in the same order; jobs of one call are independent of each
        other (at most one per partition and target)."""


class Counters(Protocol):
    def attempted(self, consumer: str, *, ok: int, failed: int, parked: int) -> None: ...


@dataclass
class Runner:
    store: SqlConsumers
    handler: Handler
    clock: Clock
    owner: str = field(default_factory=lambda: f"{socket.gethostname()[:40]}:"
                       f"{uuid.uuid4().hex[:12]}")
    lease: timedelta = timedelta(seconds=60)
    batch: int = 200
    poll_seconds: float = 0.25
    counters: Counters | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _size: int = 0  # jobs claimed per round: `batch`, halved after a round outlives its lease

    @property
    def name(self) -> str:
        return self.handler.name

    def poke(self) -> None:
        self._wake.set()

    async def take_in(self) -> int:
        """Jobs for every event committed since this consumer's position; how many events."""
        taken = 0
        while True:
            after = await self.store.register(self.name, now=self.clock.now())
            events = await self.store.read_new(after, limit=500)
            if not events:
                return taken
            targets = await self.handler.targets(events)
            if await self.store.fan_in(self.name, events, targets, after=after,
                                       now=self.clock.now()):
                taken += len(events)
            if len(events) < 500:
                return taken

    async def round(self) -> int:
        """One round: take in, claim, handle, settle; how many jobs were handled."""
        await self.take_in()
        size = self._size or self.batch
        jobs = await self.store.claim(self.name, owner=self.owner, now=self.clock.now(),
                                      lease=self.lease, limit=size,
                                      attempts=self.handler.backoff.attempts)
        if not jobs:
            return 0
        try:
            # done well within the lease, so no other process takes these jobs over meanwhile
            async with asyncio.timeout(self.lease.total_seconds() * 0.8):
                results = await self.handler.handle(jobs)
            self._size = min(self.batch, size * 2)  # back up towards `batch` when it keeps up
        except TimeoutError:
            # a slow receiver or a busy machine: smaller batches, so the next ones finish
            # within the lease instead of failing whole again until they are parked
            self._size = max(1, len(jobs) // 2)
            log.warning("consumer %s: a batch of %d outlived its deadline; next batches of %d",
                        self.name, len(jobs), self._size)
            results = [Result(False, error="no outcome within the lease")] * len(jobs)
        except Exception as exc:  # noqa: BLE001 - a handler bug is a failed attempt, not a dead loop
            log.exception("consumer %s: handler failed", self.name)
            results = [Result(False, error=f"handler error: {type(exc).__name__}")] * len(jobs)
        outcomes = self.outcomes(jobs, results)
        await self.store.settle(outcomes, owner=self.owner, now=self.clock.now())
        if self.counters is not None:
            self.counters.attempted(
                self.name, ok=sum(o.ok for o in outcomes),
                failed=sum(not o.ok for o in outcomes),
                parked=sum(not o.ok and o.retry_at is None for o in outcomes))
        return len(jobs)

    def outcomes(self, jobs: Sequence[Claimed], results: Sequence[Result]) -> list[Outcome]:
        now = self.clock.now()
        out = []
        for job, r in zip(jobs, results, strict=True):
            if r.ok:
                out.append(Outcome(job.id, True, r.status))
                continue
            wait = None if r.park else self.handler.backoff.after(job.attempts)
            if wait is None:
                log.warning("consumer %s: parked event %s (%s) after %d attempts: %s",
                            self.name, job.event_id, job.type, job.attempts, r.error)
            out.append(Outcome(job.id, False, r.status, r.error,
                               None if wait is None else now + timedelta(seconds=wait)))
        return out

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                handled = await self.round()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: wait, then try again
                failures += 1
                log.exception("consumer %s: round failed (%d in a row)", self.name, failures)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)) * random.uniform(
                    0.8, 1.2))
                continue
            if handled:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def start(self) -> None:
        await self.handler.start()
        self._task = asyncio.create_task(self.run(), name=f"consumer:{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.handler.stop()


@dataclass
class Consumers:
    """The consumers one process runs; `poke` after a local commit starts a round at once."""

    runners: list[Runner]

    def poke(self, _heads: object = None) -> None:
        for r in self.runners:
            r.poke()

    async def start(self) -> None:
        for r in self.runners:
            await r.start()

    async def stop(self) -> None:
        for r in self.runners:
            await r.stop()

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runners]
