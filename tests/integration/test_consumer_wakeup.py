"""A commit in one process starts the outbox consumers' round in another at once, through the
shared fan-out's outbox hints, for a `serve` process with consumers on and for a `promessa
worker`. The consumers poll only every 60 s here, so a mail written within seconds was woken
by the hint, not found by the poll."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from tests.api.lifecycle import place
from tests.conftest import Api, make_settings, seed_contract_network
from tests.persistence.test_fanout_backends import _redis_url
from tests.processes import start_worker, until

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]
WITHIN = 8.0  # seconds; the poll would take 60


@asynccontextmanager
async def app(db_url: str, clock: Any, **settings: Any) -> AsyncIterator[Api]:
    application = create_app(make_settings(db_url, broadcast_url=_redis_url(), **settings),
                             clock=clock)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://test") as client:
        yield Api(client, application)


async def confirmations(api: Api, number: str) -> int:
    async with api.app.state.db.reader.begin() as conn:
        return int((await conn.execute(sa.text(
            "SELECT count(*) FROM notifications WHERE order_number = :n "
            "AND kind = 'ORDER_CONFIRMED'"), {"n": number})).scalar_one())


async def registered(api: Api) -> bool:
    async with api.app.state.db.reader.begin() as conn:
        return bool((await conn.execute(sa.text(
            "SELECT 1 FROM consumer_positions WHERE consumer = 'notifications'"))).first())


async def test_a_commit_elsewhere_wakes_a_serve_process_s_consumers(pg_url, clock, tokens):
    async with app(pg_url, clock, consumers=True, consumer_poll_seconds=60.0) as consuming, \
            app(pg_url, clock) as placing:
        await seed_contract_network(placing, tokens)
        await until(lambda: registered(consuming), seconds=10, what="the consumers' start")
        number = (await place(placing, "wake-serve-1", token=tokens["ada"]))["number"]

        async def mailed() -> bool:
            return await confirmations(consuming, number) == 1

        await until(mailed, seconds=WITHIN, what="the confirmation (woken by the hint)")


async def test_a_commit_elsewhere_wakes_a_worker(pg_url, clock, tokens):
    worker, log = start_worker(pg_url, {"PROMESSA_BROADCAST_URL": _redis_url(),
                                        "PROMESSA_CONSUMER_POLL_SECONDS": "60"})
    try:
        async with app(pg_url, clock) as placing:
            await seed_contract_network(placing, tokens)
            await until(lambda: registered(placing), seconds=60, what="the worker's start",
                        log=log)
            number = (await place(placing, "wake-worker-1", token=tokens["ada"]))["number"]

            async def mailed() -> bool:
                return await confirmations(placing, number) == 1

            await until(mailed, seconds=WITHIN, what="the confirmation (woken by the hint)",
                        log=log)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
