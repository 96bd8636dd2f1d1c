"""`promessa worker`: the durable outbox consumers and the timers, without the API.

Any number of workers (and `serve` processes with consumers on) may run against one
PostgreSQL database: jobs are leased, so each event is handled by one process at a time, and a
killed worker's leases expire for another to take over. With `--port` the worker answers
/healthz and /metrics (its own counters, and every consumer's lag read from the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import bootstrap
from api.clock import SystemClock
from api.fanout import Fanout
from api.integration.timers import Timers
from api.payments.providers import Registry
from api.prometheus import Metrics, metrics_endpoint
from api.realtime import HINTS_CHANNEL
from api.settings import Settings
from persistence.consumers import SqlConsumers

log = logging.getLogger("promessa.worker")


async def run(settings: Settings, *, host: str = "127.0.0.1", port: int | None = None) -> None:
    clock, metrics = SystemClock(), Metrics()
    db, deps = await bootstrap.open_dependencies(settings, clock=clock, metrics=metrics)
    consumers = bootstrap.open_consumers(settings, db, clock=clock, metrics=metrics,
                                         deps=deps)
    timers = Timers(deps.app)
    hints = bootstrap.open_realtime(settings, clock=clock).fanout
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    server = None
    listening: asyncio.Task[None] | None = None
    try:
        await consumers.start()
        await timers.start()
        listening = asyncio.create_task(_wake_on_commits(hints, consumers.poke))
        log.info("worker running consumers: %s", ", ".join(consumers.names))
        if port is not None:
            server = _server(settings, metrics, db, deps, consumers.names, host, port)
            asyncio.create_task(server.serve())
        await stop.wait()
    finally:
        if server is not None:
            server.should_exit = True
        if listening is not None:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
        await hints.close()
        await timers.stop()
        await consumers.stop()
        if isinstance(deps.providers, Registry):
            await deps.providers.aclose()
        await db.dispose()


async def _wake_on_commits(fanout: Fanout, poke: Callable[[], None]) -> None:
    """Start the consumers' round when a `serve` process says it committed (the outbox hints
    of the shared fan-out), not only at the next poll; nothing to hear on memory://."""
    if fanout.url.startswith("memory://"):
        return
    await fanout.open()  # reconnects by itself (its watchdog); a lost stretch comes as a GAP
    while True:
        try:
            async with fanout.subscribe(HINTS_CHANNEL) as messages:
                poke()
                async for _ in messages:
                    poke()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the consumers poll meanwhile
            log.warning("listening for commits failed (the consumers poll): %r", exc)
        await asyncio.sleep(5.0)


def _server(settings, metrics, db, deps, names, host: str, port: int):  # type: ignore[no-untyped-def]
    import uvicorn

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "consumers": names})

    app = Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])
    app.state.settings, app.state.metrics, app.state.db, app.state.deps = (
        settings, metrics, db, deps)
    app.state.consumer_store, app.state.consumer_names = SqlConsumers(db), names
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                         lifespan="off", access_log=False))
