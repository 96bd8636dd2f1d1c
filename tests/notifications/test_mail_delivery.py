"""Handing mails over: an SMTP server that is away is waited out, a message is never written
twice for one event, a batch cut off at its deadline hands no mail over twice, and the
decisions of domain/notifications."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.notifications import (
    Kind,
    Notification,
    Status,
    kind_of,
    language,
    optout_email,
    optout_token,
    suppressed,
)
from tests.api.lifecycle import place
from tests.api.returns import seed
from tests.notifications.smtp import Inbox, free_port, smtp_server
from tests.notifications.support import drain, mail_app, mailer, run

AT = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)


@pytest.mark.anyio
async def test_a_server_that_is_away_is_waited_out_and_each_mail_goes_once(
        db_url: str, clock, tokens: dict[str, str]) -> None:
    port = free_port()  # nothing listens there yet
    async with mail_app(db_url, clock, port) as api:
        await seed(api, tokens)
        mails = mailer(api, retries=5)
        await mails.take_in()
        number = (await place(api, "mail-down-001", lines=[
            {"sku": "MUG-NAME", "quantity": 1}]))["number"]
        assert await mails.round() == 1
        [n] = (await run(api, "OrderNotifications", {"number": number},
                         tokens["agent"]))["notifications"]
        assert (n["kind"], n["status"], n["sentAt"]) == ("ORDER_CONFIRMED", "FAILED", None)
        with smtp_server(port) as (inbox, _):
            while await mails.round():
                pass
            [mail] = inbox.messages
        [n] = (await run(api, "OrderNotifications", {"number": number},
                         tokens["agent"]))["notifications"]
        assert n["status"] == "SENT" and n["sentAt"]
        # the same Message-ID as the failed attempt would have carried: derived from the event
        stored = (await api.app.state.deps.notifications.for_orders([number]))[number][0]
        assert mail["Message-ID"].strip() == stored.message_id
        assert stored.message_id.startswith(f"<{stored.event_id}.order_confirmed@")


class SlowInbox(Inbox):
    """A server that answers each message 0.35 s after it has taken it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(0.35)
        return answer


@pytest.mark.anyio
async def test_a_batch_cut_off_at_its_deadline_hands_no_mail_over_twice(
        db_url: str, clock, tokens: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    with smtp_server(handler=SlowInbox()) as (inbox, port):
        async with mail_app(db_url, clock, port) as api:
            await seed(api, tokens)
            mails = mailer(api, retries=5)
            mails.lease = timedelta(seconds=1)  # the batch's deadline: 0.8 s, for 1.4 s of mail
            await mails.take_in()
            numbers = [(await place(api, f"mail-cut-{i:03d}", lines=[
                {"sku": "MUG-NAME", "quantity": 1}]))["number"] for i in range(4)]
            await drain(mails)
            sent = await api.app.state.deps.notifications.for_orders(numbers)
    assert "a batch of 4 outlived its deadline" in caplog.text  # cut while a mail was out
    # the mail the cut caught between the server's 250 and its SENT went out once, as all
    assert sorted(Counter(m["Message-ID"].strip() for m in inbox.messages).items()) == sorted(
        (n.message_id, 1) for number in numbers for n in sent[number])
    assert {n.status for ns in sent.values() for n in ns} == {Status.SENT}


@pytest.mark.anyio
async def test_without_smtp_mails_are_rendered_and_recorded(db_url: str, clock,
                                                            tokens: dict[str, str]) -> None:
    async with mail_app(db_url, clock, None) as api:
        await seed(api, tokens)
        mails = mailer(api)
        await mails.take_in()
        number = (await place(api, "mail-rec-001", lines=[
            {"sku": "MUG-NAME", "quantity": 1}]))["number"]
        while await mails.round():
            pass
        [n] = (await api.app.state.deps.notifications.for_orders([number]))[number]
        assert n.status is Status.RECORDED and n.language == "it"  # shipped to Italy
        assert number in n.text and number in n.html and n.subject.startswith("Ordine")


def test_the_language_is_the_order_s_then_the_channel_s_then_the_country_s() -> None:
    assert language(customer="en-US", channel="it", country="IT") == "en"
    assert language(customer=None, channel="it-IT", country="DE") == "it"
    assert language(customer="fr", channel=None, country="IT") == "it"
    assert language(customer=None, channel=None, country="DE") == "en"


def test_a_repeated_or_stale_scan_is_no_news() -> None:
    assert kind_of("TRACKING_DELIVERED", {"order": "PR-1", "moved": True}) is Kind.DELIVERED
    assert kind_of("TRACKING_DELIVERED", {"order": "PR-1", "moved": False}) is None
    assert kind_of("TRACKING_IN_TRANSIT", {"order": "PR-1", "moved": True}) is None
    assert kind_of("INVENTORY_CHANGED", {"sku": "X"}) is None


def test_a_second_delay_within_the_window_is_suppressed() -> None:
    sent = Notification(id="n1", order_number="PR-1", event_id="e1", kind=Kind.DELAYED,
                        to="a@b.c", subject="s", language="en", status=Status.SENT,
                        created_at=AT, message_id="<e1>", fulfillment_id="f1")
    assert suppressed(Kind.DELAYED, "f1", at=AT + timedelta(minutes=5), earlier=[sent])
    assert not suppressed(Kind.DELAYED, "f1", at=AT + timedelta(hours=2), earlier=[sent])
    assert not suppressed(Kind.DELAYED, "f2", at=AT, earlier=[sent])
    assert not suppressed(Kind.SHIPPED, "f1", at=AT, earlier=[sent])


def test_an_optout_token_is_for_its_address_only() -> None:
    key = b"k" * 32
    token = optout_token(key, "Ada@Example.com")
    assert optout_email(key, token) == "ada@example.com"
    assert optout_email(b"x" * 32, token) is None
    other = optout_token(key, "bob@example.com")
    assert optout_email(key, token.split(".")[0] + "." + other.split(".")[1]) is None
    assert optout_email(key, "garbage") is None
