"""Kill -9 a `promessa worker` in the middle of a burst of orders, with the webhook and the
RabbitMQ consumers running, and start another: every event of every order arrives at the
receiver and in a RabbitMQ queue bound with `#` (at least once, each stream in order), and
none is parked. PostgreSQL, RabbitMQ and a real HTTP receiver; the worker is a real process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa

from tests.api.returns import seed
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import SECRET
from tests.integration.receiver import receiver
from tests.integration.test_webhooks import app_with_consumers, endpoint
from tests.processes import ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.rabbitmq]
AMQP = os.environ.get("PROMESSA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ORDERS = 500
STOCK = """mutation($input: SetInventoryInput!) { setInventory(input: $input) {
  userErrors { code } } }"""


def start_worker(db_url: str) -> tuple[subprocess.Popen[bytes], str]:
    log = tempfile.NamedTemporaryFile(prefix="promessa-worker-", suffix=".log", delete=False)
    env = {**os.environ, "PROMESSA_DATABASE_URL": db_url, "PROMESSA_JWT_SECRET": SECRET,
           "PROMESSA_ENV": "test", "PROMESSA_EVENT_SINK_URL": AMQP,
           "PROMESSA_LOG_FORMAT": "text", "PROMESSA_CONSUMER_LEASE_SECONDS": "3",
           "PROMESSA_DB_POOL_SIZE": "5",  # CI runs other PostgreSQL tests beside this one
           # quick first retries, then room to wait out a machine busy with other tests: with
           # 16 s in all, batches of 200 outliving the 3 s lease again and again parked 108
           # jobs once in CI on two loaded cores (the runner now also halves its batches)
           "PROMESSA_CONSUMER_BACKOFF": "0.2,0.5,1,2,4,8,15,30,60",
           "PROMESSA_WEBHOOK_BACKOFF": "0.2,0.5,1,2,4,8,15,30,60"}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process, log.name


def tail(path: str) -> str:
    return Path(path).read_text()[-2000:]


async def positions(api: Any) -> dict[str, int]:
    async with api.app.state.db.reader.begin() as conn:
        rows = (await conn.execute(sa.text("SELECT consumer, position FROM consumer_positions"))
                ).all()
    return {r.consumer: r.position for r in rows}


async def expected_events(api: Any, after: int) -> dict[str, tuple[str, int]]:
    """event id → (its first stream, sequence) for every event after `after` on $all."""
    async with api.app.state.db.reader.begin() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT o.event_id, o.stream, o.sequence FROM outbox o WHERE o.event_id IN "
            "(SELECT event_id FROM outbox WHERE stream = '$all' AND sequence > :a) "
            "AND o.stream != '$all' ORDER BY o.id"), {"a": after})).all()
    first: dict[str, tuple[str, int]] = {}
    for r in rows:
        first.setdefault(r.event_id, (r.stream, r.sequence))
    return first


def in_order(arrivals: list[tuple[str, int, str | None]]) -> list[str]:
    """What first arrived out of order (a repeat of one already seen is fine: at least once).

    Arrivals are (stream, sequence, SKU). An order's stream must arrive 1, 2, 3, …; stock
    events (one `inventory` stream for all SKUs) in increasing sequence per SKU; events whose
    first stream is a location's come with their order and are not checked here.
    """
    seen: dict[str, set[int]] = defaultdict(set)
    wrong = []
    for stream, sequence, sku in arrivals:
        key = stream if stream.startswith("order:") else f"sku:{sku}" if sku else None
        if key is None or sequence in seen[key]:
            continue
        last = max(seen[key], default=0)
        if (sequence != last + 1) if key.startswith("order:") else (sequence < last):
            wrong.append(f"{key}: {sequence} after {last}")
        seen[key].add(sequence)
    return wrong


async def test_a_killed_worker_loses_nothing(pg_url: str, clock: Any,
                                            tokens: dict[str, str]) -> None:
    db_url = pg_url
    broker = await aio_pika.connect_robust(AMQP)
    channel = await broker.channel()
    exchange = await channel.declare_exchange("promessa.events", aio_pika.ExchangeType.TOPIC,
                                              durable=True)
    queue = await channel.declare_queue(f"promessa-test-{os.getpid()}", exclusive=True)
    await queue.bind(exchange, "#")
    async with receiver() as hook, app_with_consumers(db_url, clock, consumers=False) as api:
        await seed(api, tokens)
        stocked = await api.data(STOCK, {"input": {"reason": "CYCLE_COUNT", "levels": [
            {"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 10 * ORDERS}]}},
            token=tokens["admin"])
        assert stocked["setInventory"]["userErrors"] == []
        await endpoint(api, tokens, hook.url)
        first, first_log = start_worker(db_url)
        second = None
        try:
            for _ in range(300):
                if {"webhooks", "broker"} <= set(await positions(api)):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the worker did not start: " + tail(first_log))
            start = min((await positions(api)).values())
            async def place(i: int) -> None:
                result = await api.data(PLACE, {"input": order_input(f"crash-{i:04d}")},
                                        token=tokens["agent"])
                assert result["placeOrder"]["userErrors"] == [], result

            async def burst() -> None:
                for i in range(0, ORDERS, 10):
                    await asyncio.gather(*(place(j) for j in range(i, min(i + 10, ORDERS))))

            placing = asyncio.create_task(burst())
            await hook.wait_for(lambda r: len(r.requests) >= 300, seconds=120)
            first.send_signal(signal.SIGKILL)  # mid-burst, leases held, confirms in flight
            first.wait()
            second, _ = start_worker(db_url)
            await placing
            expected = await expected_events(api, start)
            assert len(expected) >= ORDERS * 3

            await hook.wait_for(lambda r: set(expected) <= {m.id for m in r.accepted},
                                seconds=300)
            arrivals = [(m.json["data"]["stream"], int(m.json["data"]["sequence"]),
                         m.json["data"].get("sku")) for m in hook.accepted if m.id in expected]
            assert in_order(arrivals) == []
            assert sum(s.startswith("order:") for s, _, _ in arrivals) >= ORDERS

            got: list[aio_pika.abc.AbstractIncomingMessage] = []
            async with asyncio.timeout(180):
                async with queue.iterator() as messages:
                    async for message in messages:
                        await message.ack()
                        if message.message_id in expected:
                            got.append(message)
                        if set(expected) <= {m.message_id for m in got}:
                            break
            assert in_order([(str(m.headers["stream"]), int(str(m.headers["sequence"])),
                              json.loads(m.body)["data"].get("sku")) for m in got]) == []
            async with api.app.state.db.reader.begin() as conn:
                parked = (await conn.execute(sa.text(
                    "SELECT count(*) FROM consumer_jobs WHERE status = 'PARKED'"))).scalar_one()
            assert parked == 0
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(15)
            await broker.close()
