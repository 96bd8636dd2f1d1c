"""Every fan-out backend carries a message from a publisher to a subscriber; a subscriber that
falls behind is told (GAP) instead of growing; a dead listener is noticed and reconnected.

Redis tests are skipped when Redis is unreachable, unless PROMESSA_REQUIRE_REDIS=1 (as in CI).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import asyncpg
import pytest
from redis import asyncio as redis

from api.fanout import GAP, Fanout
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("PROMESSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FAST = {"heartbeat_seconds": 0.1, "heartbeat_timeout": 0.5, "connect_timeout": 2.0}


def _redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("PROMESSA_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required (PROMESSA_REQUIRE_REDIS=1) but: {exc!r}")
        pytest.skip(f"Redis not reachable: {exc!r}")
    return REDIS_URL


async def _round_trip(url: str) -> None:
    publisher, subscriber = Fanout(url), Fanout(url)
    await publisher.open()
    await subscriber.open()
    channel = f"test-{uuid.uuid4().hex[:8]}"
    try:
        async with subscriber.subscribe(channel) as messages:
            await asyncio.sleep(0.1)  # let the backend register the subscription
            await publisher.publish(channel, "order:PR-000001:1")
            got = await asyncio.wait_for(anext(messages), timeout=5)
        assert got == "order:PR-000001:1"
        with pytest.raises(ValueError):
            await publisher.publish(channel, "x" * 2000)
    finally:
        await subscriber.close()
        await publisher.close()


async def test_memory_backend_delivers_within_a_process():
    fanout = Fanout("memory://")
    await fanout.open()
    try:
        async with fanout.subscribe("c") as messages:
            await fanout.publish("c", "hello")
            assert await asyncio.wait_for(anext(messages), timeout=2) == "hello"
    finally:
        await fanout.close()


@pytest.mark.redis
async def test_redis_backend_delivers_between_connections():
    await _round_trip(_redis_url())


@pytest.mark.postgres
async def test_postgres_backend_delivers_between_connections(pg_database):
    await _round_trip(pg_database)


def test_an_unsupported_url_is_refused_before_anything_opens():
    with pytest.raises(ValueError, match="use memory://, redis:// or postgres://"):
        Fanout("kafka://broker:9092")


async def _overflow(url: str) -> None:
    fanout = Fanout(url, queue_size=10)
    await fanout.open()
    try:
        async with fanout.subscribe("slow") as slow, fanout.subscribe("marker") as marker:
            await asyncio.sleep(0.1)
            for i in range(1, 16):
                await fanout.publish("slow", str(i))
            await fanout.publish("marker", "done")  # delivered after all of "slow", in order
            assert await asyncio.wait_for(anext(marker), timeout=5) == "done"
            got = [await asyncio.wait_for(anext(slow), timeout=5) for _ in range(5)]
        assert got == [GAP, "12", "13", "14", "15"]
    finally:
        await fanout.close()


async def test_a_subscriber_that_falls_behind_gets_gap_instead_of_a_longer_queue():
    await _overflow("memory://")


@pytest.mark.redis
async def test_a_redis_subscriber_that_falls_behind_gets_gap():
    await _overflow(_redis_url())


async def _recovers(fanout: Fanout, channel: str, kill) -> None:
    await fanout.open()
    try:
        async with fanout.subscribe(channel) as messages:
            await asyncio.sleep(0.2)
            await fanout.publish(channel, "before")
            assert await asyncio.wait_for(anext(messages), timeout=5) == "before"
            await kill()
            assert await asyncio.wait_for(anext(messages), timeout=10) is GAP
            assert fanout.reconnects == 1
            assert fanout.healthy()
            await fanout.publish(channel, "after")
            assert await asyncio.wait_for(anext(messages), timeout=5) == "after"
    finally:
        await fanout.close()


async def test_the_watchdog_restarts_a_dead_listener():
    fanout = Fanout("memory://", **FAST)

    async def kill() -> None:
        fanout._listener.cancel()  # as if the listener task had crashed

    await _recovers(fanout, "c", kill)


@pytest.mark.redis
async def test_the_watchdog_reconnects_after_redis_drops_the_subscriber_connection():
    url = _redis_url()
    fanout = Fanout(url, **FAST)
    admin = redis.Redis.from_url(url)

    async def kill() -> None:
        assert await admin.client_kill_filter(_type="pubsub", skipme=True) >= 1

    try:
        await _recovers(fanout, f"test-{uuid.uuid4().hex[:8]}", kill)
    finally:
        await admin.aclose()


@pytest.mark.postgres
async def test_the_watchdog_reconnects_after_postgres_drops_the_listening_connection(
        pg_database):
    fanout = Fanout(pg_database, **FAST)

    async def kill() -> None:
        pid = fanout._backend._conn.get_server_pid()
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid) is True
        finally:
            await conn.close()

    await _recovers(fanout, f"test_{uuid.uuid4().hex[:8]}", kill)


async def test_publishing_with_the_backend_down_raises_for_the_caller_to_handle():
    fanout = Fanout("memory://")
    with pytest.raises(ConnectionError, match="not connected"):
        await fanout.publish("c", "x")
