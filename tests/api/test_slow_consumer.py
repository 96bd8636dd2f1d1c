"""A consumer that stops reading while 10 000 events are published: what the server holds for
it stays bounded, and once it reads again it gets every event, once, in order."""

from __future__ import annotations

import asyncio
import gc
import json
import socket

import pytest
from websockets.asyncio.client import connect

from api.realtime.hub import READ_BATCH
from domain.kernel import events
from domain.kernel.streams import StoredEvent
from tests.api.realtime import until
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
EVENTS = 10_000
QUEUE = 100
DOCUMENT = """subscription { inventoryEvents(skus: ["TSHIRT-BLU-M"]) {
  sequence onHand reason location { code } } }"""
# a long reason (~1 kB an event, sent uncompressed) so that the kernel's socket buffers hold a
# few hundred events, not thousands: the server soon has to wait for the consumer
REASON = "RECOUNT " + "x" * 1000


async def _publish(app, n: int, *, per_commit: int = 1000) -> None:
    clock = app.state.deps.clock
    for start in range(0, n, per_commit):
        async with app.state.deps.uow() as tx:
            tx.emit(*(events.inventory_changed(
                sku="TSHIRT-BLU-M", location="ST-ROMA", on_hand=start + i, reserved=0,
                safety_stock=0, reason=REASON, at=clock.now()) for i in range(per_commit)))
            await tx.commit()


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    """What is measured is the hub and the socket, not the database: SQLite only (the
    replay and live paths run on both engines in test_subscriptions.py)."""
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def _small_socket(url: str) -> socket.socket:
    """A client socket with a small receive buffer: a consumer that stops reading stalls the
    server quickly instead of after megabytes of kernel buffering."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def test_a_consumer_that_stops_reading_costs_bounded_memory_and_misses_nothing(
        live_server, tokens):
    async with live_server(subscriber_queue=QUEUE) as live:
        await seed_contract_network(live.api, tokens)  # inventory events 1-3
        hub = live.app.state.realtime.hub
        async with connect(live.ws_url, subprotocols=["graphql-transport-ws"],
                           sock=_small_socket(live.url), max_queue=(2, 1), open_timeout=5,
                           ping_interval=None, close_timeout=2, compression=None) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {
                "Authorization": f"Bearer {tokens['integration']}"}}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": DOCUMENT}}))
            await until(lambda: hub.subscribers == 1)

            await _publish(live.app, EVENTS)  # and the consumer reads nothing meanwhile
            await until(lambda: hub.read_up_to("inventory") == 3 + EVENTS, within=30)
            await asyncio.sleep(0.2)
            assert hub.stats.lagged >= 1  # the server had to stop queueing for it
            assert hub.stats.most_queued <= max(QUEUE, READ_BATCH)
            # alive of the 10 000 events: the pump's last read, the batch being sent, and a
            # queue of at most one more batch
            assert _alive(StoredEvent) <= 3 * READ_BATCH

            sequences = []
            async with asyncio.timeout(60):
                while len(sequences) < EVENTS:
                    message = json.loads(await ws.recv())
                    assert message["type"] == "next", message
                    event = message["payload"]["data"]["inventoryEvents"]
                    sequences.append(int(event["sequence"]))
        assert sequences == list(range(4, 4 + EVENTS))
        assert hub.stats.catchup_reads >= 1  # what it missed while stalled came from the outbox
