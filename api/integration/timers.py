"""Timers: work that is due because time passed, not because someone asked.

- third-party work not acknowledged within its location's window is re-sourced
  (`fulfillment.expire_unacknowledged`);
- delivered orders whose return window closed with nothing open become COMPLETED
  (`returns.complete_due`);
- orders whose payment authorisation expired before everything shipped are held for an
  agent (`payments.flag_lapsed`).

Run where the consumers run (`serve` by default, or `worker`), every `every` seconds. Both use
cases are safe to run in several processes at once (each item is changed once, under the
unit of work's guards) and take a bounded batch per call; a full batch is followed at once
by the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from domain.application import Application

log = logging.getLogger("promessa.timers")
BATCH = 100


class Timers:
    def __init__(self, app: Application, *, every: float = 30.0) -> None:
        self.every = every
        self.jobs: list[tuple[str, Callable[[], Awaitable[int]]]] = [
            ("unacknowledged work", lambda: app.fulfillment.expire_unacknowledged(limit=BATCH)),
            ("orders to complete", lambda: app.returns.complete_due(limit=BATCH)),
            ("lapsed payment authorisations",
             lambda: app.payments.flag_lapsed(limit=BATCH))]
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> dict[str, int]:
        """Run every timer until it has nothing due; how many items each changed."""
        done: dict[str, int] = {}
        for name, job in self.jobs:
            total = 0
            while True:
                try:
                    n = await job()
                except Exception:  # noqa: BLE001 - one failing timer must not stop the others
                    log.exception("timer %s failed", name)
                    break
                total += n
                if n < BATCH:
                    break
            done[name] = total
            if total:
                log.info("timer %s: %d", name, total)
        return done

    async def _run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.every)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
