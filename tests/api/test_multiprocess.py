"""Several server processes on one PostgreSQL database: a change committed through one reaches
subscribers connected to another, through Redis or PostgreSQL LISTEN/NOTIFY.

The servers poll the outbox only every 60 s here, so an event that arrives within seconds
came through the fan-out.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import pytest
from redis import asyncio as redis

from api.app import create_app
from tests.api.realtime import Follower, ws_client
from tests.conftest import SECRET, Api, _empty_pg, make_settings, seed_contract_network, serve
from tests.persistence.test_fanout_backends import _redis_url
from tests.processes import free_port, server_process, uvicorn_command

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
INVENTORY = "subscription($after: String) { inventoryEvents(after: $after) { sequence onHand } }"
ADJUST = """mutation($d: Int!) { adjustInventory(input: {sku: "TSHIRT-BLU-M",
  location: "ST-ROMA", delta: $d, reason: "FOUND"}) { userErrors { code } } }"""
FAN_OUT_WITHIN = 5.0  # seconds; the poll would take 60


@pytest.fixture
async def database(pg_database) -> str:
    await _empty_pg(pg_database)
    return pg_database


def _env(database: str, broadcast: str) -> dict[str, str]:
    return {"PROMESSA_DATABASE_URL": database, "PROMESSA_BROADCAST_URL": broadcast,
            "PROMESSA_JWT_SECRET": SECRET, "PROMESSA_ENV": "test",
            "PROMESSA_REALTIME_POLL_SECONDS": "60"}


async def _adjust(api: Api, token: str, delta: int) -> None:
    result = await api.data(ADJUST, {"d": delta}, token=token)
    assert result["adjustInventory"]["userErrors"] == []


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.redis),
                                     "postgres"])
async def test_a_change_on_one_server_reaches_a_subscriber_on_another(database, tokens,
                                                                      backend):
    broadcast = _redis_url() if backend == "redis" else database.replace(
        "postgresql+asyncpg://", "postgres://")
    env = _env(database, broadcast)
    a_port, b_port = free_port(), free_port()
    async with server_process(uvicorn_command(a_port), a_port, env) as a_url, \
            server_process(uvicorn_command(b_port), b_port, env) as b_url, \
            httpx.AsyncClient(base_url=b_url, timeout=30) as b_http:
        b = Api(b_http, None)
        await seed_contract_network(b, tokens)  # inventory events 1-3, through B
        ws_a = "ws" + a_url.removeprefix("http") + "/graphql"
        async with ws_client(ws_a, tokens["integration"]) as session, Follower(
                session, INVENTORY, {"after": "3"}) as on_a:
            await _adjust(b, tokens["integration"], 1)
            assert await on_a.take(1) == [{"sequence": "4", "onHand": 7}]  # on A: live now
            started = time.monotonic()
            for delta in (2, 3, 4):
                await _adjust(b, tokens["integration"], delta)
            got = await on_a.take(3, within=FAN_OUT_WITHIN)
            assert time.monotonic() - started < FAN_OUT_WITHIN
            await on_a.nothing_more(wait=0.3)
    assert got == [{"sequence": "5", "onHand": 9}, {"sequence": "6", "onHand": 12},
                   {"sequence": "7", "onHand": 16}]


@pytest.mark.redis
async def test_promessa_serve_with_workers_delivers_every_event_to_every_subscriber(
        database, tokens):
    """Which worker takes a connection is the kernel's choice: with six subscribers and a
    fresh connection per change, some changes are committed by the worker a subscriber is
    not on (the two-server test above is the deterministic proof)."""
    port = free_port()
    command = [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--host",
               "127.0.0.1", "--port", str(port)]
    async with server_process(command, port, _env(database, _redis_url())) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await seed_contract_network(Api(http, None), tokens)
        ws_url = "ws" + url.removeprefix("http") + "/graphql"
        clients = [ws_client(ws_url, tokens["integration"]) for _ in range(6)]
        followers = [Follower(await c.connect_async(), INVENTORY, {"after": "3"})
                     for c in clients]
        try:
            for follower in followers:
                await follower.__aenter__()
            await _adjust_on_a_new_connection(url, tokens, 1)
            first = await asyncio.gather(*(f.take(1) for f in followers))  # all live now
            for delta in range(2, 7):
                await _adjust_on_a_new_connection(url, tokens, delta)
            rest = await asyncio.gather(*(f.take(5, within=FAN_OUT_WITHIN)
                                          for f in followers))
        finally:
            for follower in followers:
                await follower.__aexit__(None, None, None)
            for client in clients:
                await client.close_async()
    assert [[e["sequence"] for e in a + b] for a, b in zip(first, rest, strict=True)] == [
        [str(s) for s in range(4, 10)]] * 6


async def _adjust_on_a_new_connection(url: str, tokens, delta: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await _adjust(Api(http, None), tokens["integration"], delta)


@pytest.mark.redis
async def test_a_hint_lost_while_the_fan_out_reconnects_is_made_up_at_once(database, tokens,
                                                                          clock):
    """Redis drops every subscriber connection; a change committed meanwhile on B is hinted
    into the void. A's watchdog reconnects, hands the hub GAP, and the hub reads the outbox:
    the event arrives in about a second, not at the next poll (60 s)."""
    settings = make_settings(database, broadcast_url=_redis_url(), realtime_poll_seconds=60,
                             fanout_heartbeat_seconds=0.1)
    app_a, app_b = create_app(settings, clock=clock), create_app(settings, clock=clock)
    admin = redis.Redis.from_url(_redis_url())
    async with serve(app_a) as a_url, app_b.router.lifespan_context(app_b), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app_b), base_url="http://b") as b_http:
        b = Api(b_http, app_b)
        await seed_contract_network(b, tokens)
        ws_a = "ws" + a_url.removeprefix("http") + "/graphql"
        async with ws_client(ws_a, tokens["integration"]) as session, Follower(
                session, INVENTORY, {"after": "3"}) as on_a:
            await _adjust(b, tokens["integration"], 1)
            assert await on_a.take(1) == [{"sequence": "4", "onHand": 7}]
            reconnects = app_a.state.fanout.reconnects
            assert await admin.client_kill_filter(_type="pubsub", skipme=True) >= 2
            await _adjust(b, tokens["integration"], 2)  # its hint is lost on A's side
            assert await on_a.take(1, within=5) == [{"sequence": "5", "onHand": 9}]
            assert app_a.state.fanout.reconnects > reconnects
    await admin.aclose()
