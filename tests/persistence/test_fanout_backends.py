"""Every fan-out backend carries a message from a publisher to a subscriber.

Redis tests are skipped when Redis is unreachable, unless PROMESSA_REQUIRE_REDIS=1 (as in CI).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

from api.fanout import Fanout

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("PROMESSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
