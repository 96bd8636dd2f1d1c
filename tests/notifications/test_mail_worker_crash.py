"""Kill -9 the `promessa worker` that sends the customer mails in the middle of a burst of 300
orders, with a real SMTP server (aiosmtpd, in a thread of this process) that outlives it; a
second worker takes the dead one's jobs over when their lease expires. Counted at the SMTP
server: every order's confirmation arrives, and the only one that arrives twice is the message
the server held when the worker died, with the same Message-ID (README, "What is guaranteed").

The worker hands its mails over one at a time and marks each SENT before the next, so a kill
can repeat one message at most: the one between the server's taking it and the write of SENT.
The test kills it inside that window — while the server holds the 100th message and has not
answered it — so the bound is reached, not merely respected (a kill at a random moment almost
always repeats none). PostgreSQL, real worker processes, placeOrder over GraphQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa

from domain.notifications import Kind, message_id
from tests import processes
from tests.api.lifecycle import place
from tests.api.returns import seed
from tests.conftest import Api
from tests.notifications.smtp import Inbox, smtp_server
from tests.notifications.support import PUBLIC, mail_app
from tests.processes import until

pytestmark = [pytest.mark.anyio]

ORDERS = 300
LANES = 4  # orders placed side by side, as a storefront's burst comes in
KILL_AT = 100  # the message the server holds when the worker dies
SENDER = "Negozio <ordini@negozio.example>"  # as mail_app's, so the domain is the same
STOCK = """mutation { setInventory(input: {reason: "COUNT", levels: [
  {sku: "TSHIRT-RED-M", location: "WH-MIL", onHand: 1000}]}) { userErrors { code } } }"""


@dataclass
class KillingInbox(Inbox):
    """An inbox that kills `pid` while it holds message number `kill_at`: the server has the
    message, the client never hears its 250."""

    kill_at: int = 0
    pid: int | None = None
    held: EmailMessage | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.raw) == self.kill_at and self.pid is not None:
            self.held = _parse(self.raw[-1])
            os.kill(self.pid, signal.SIGKILL)
            self.pid = None
        return answer


def _parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture
def inbox() -> Iterator[tuple[KillingInbox, int]]:
    box = KillingInbox(kill_at=KILL_AT)
    with smtp_server(handler=box) as (_, port):
        yield box, port


@pytest.fixture
async def shop(pg_url: str, clock: Any, inbox: tuple[KillingInbox, int]
               ) -> AsyncIterator[Api]:
    # the app places the orders; its own consumers are off (make_settings): only the worker
    # processes send mails
    async with mail_app(pg_url, clock, inbox[1]) as api:
        yield api


def start_worker(db_url: str, smtp_port: int) -> tuple[subprocess.Popen[bytes], str]:
    return processes.start_worker(db_url, {
        "PROMESSA_CONSUMER_LEASE_SECONDS": "8", "PROMESSA_DB_POOL_SIZE": "3",
        "PROMESSA_CONSUMER_BACKOFF": "0.2,0.5,1",
        "PROMESSA_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "PROMESSA_MAIL_FROM": SENDER, "PROMESSA_PUBLIC_URL": PUBLIC},
        prefix="promessa-mail-worker-")


async def rows(api: Api, sql: str, **params: Any) -> list[Any]:
    async with api.app.state.db.reader.begin() as conn:
        return list((await conn.execute(sa.text(sql), params)).all())


async def burst(api: Api, placed: list[str]) -> None:
    """ORDERS orders in LANES lanes, each number appended to `placed` once it is committed."""
    async def lane(k: int) -> None:
        for i in range(k, ORDERS, LANES):
            order = await place(api, f"mail-burst-{i:04d}",
                                lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}])
            placed.append(order["number"])

    await asyncio.gather(*(lane(k) for k in range(LANES)))


async def statuses(api: Api) -> Counter[str]:
    return Counter(dict(await rows(api, "SELECT status, count(*) FROM notifications "
                                        "GROUP BY status")))


@pytest.mark.slow
async def test_a_mail_worker_killed_mid_burst_repeats_only_the_message_the_server_held(
        shop: Api, tokens: dict[str, str], pg_url: str,
        inbox: tuple[KillingInbox, int]) -> None:
    api, (box, port) = shop, inbox
    await seed(api, tokens)
    assert (await api.data(STOCK, token=tokens["admin"]))["setInventory"]["userErrors"] == []
    first, first_log = start_worker(pg_url, port)
    second = None
    placing = None
    try:
        async def registered() -> bool:
            return bool(await rows(api, "SELECT 1 FROM consumer_positions "
                                        "WHERE consumer = 'notifications'"))

        await until(registered, seconds=60, what="the worker's start", log=first_log)
        box.pid = first.pid
        placed: list[str] = []
        placing = asyncio.create_task(burst(api, placed))

        async def killed() -> bool:
            if placing.done():
                placing.result()  # a failed placement fails the test here
            return first.poll() is not None

        await until(killed, seconds=120, what="the kill", log=first_log)
        assert first.wait(15) == -signal.SIGKILL, "the worker was not killed mid-burst"
        held = box.held
        assert held is not None
        # every message the server took before the held one is marked SENT; the held one is
        # still SENDING: the one message a second worker may hand over again
        at_kill = await statuses(api)
        assert at_kill["SENT"] == KILL_AT - 1, at_kill
        [(status,)] = await rows(api, "SELECT status FROM notifications WHERE message_id = :m",
                                 m=held["Message-ID"].strip())
        assert status == "SENDING"

        second, second_log = start_worker(pg_url, port)
        await placing

        async def all_sent() -> bool:
            return (await statuses(api))["SENT"] == ORDERS and not await rows(
                api, "SELECT id FROM consumer_jobs WHERE consumer = 'notifications' "
                     "AND status != 'DONE'")

        await until(all_sent, seconds=120, what="every mail sent after the takeover",
                    log=second_log)
    finally:
        if placing is not None and not placing.done():
            placing.cancel()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(15)

    # the Message-ID each order's confirmation carries, derived from its ORDER_PLACED event
    events = await rows(api, "SELECT event_id, payload FROM outbox "
                             "WHERE type = 'ORDER_PLACED' AND stream = '$all'")
    order_of = {message_id(event_id, Kind.ORDER_CONFIRMED, "negozio.example"):
                json.loads(payload)["order"] for event_id, payload in events}
    assert sorted(order_of.values()) == sorted(placed)
    assert len(order_of) == ORDERS

    mails = [_parse(raw) for raw in box.raw]
    seen = Counter(m["Message-ID"].strip() for m in mails)
    assert set(seen) == set(order_of)  # every order's mail, and nothing else
    assert {mid: n for mid, n in seen.items() if n > 1} == {held["Message-ID"].strip(): 2}
    assert len(mails) == ORDERS + 1
    for mail in mails:
        number = order_of[mail["Message-ID"].strip()]
        assert mail["To"] == "ada@example.com" and number in mail["Subject"], mail["Subject"]

    assert await statuses(api) == Counter({"SENT": ORDERS})
    assert await rows(api, "SELECT count(*) FROM notifications WHERE kind != 'ORDER_CONFIRMED' "
                           "OR sent_at IS NULL") == [(0,)]
    assert await rows(api, "SELECT count(*) FROM consumer_jobs WHERE consumer = "
                           "'notifications' AND status != 'DONE'") == [(0,)]
