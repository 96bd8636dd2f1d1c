"""Kill -9 a `promessa worker` between Stripe's capture and our record of it: the Stripe
emulator captures the money and never answers (`hold_after_capture`), the worker is killed
while it waits, and a second worker takes the job over when its lease expires — it asks
Stripe again with the same idempotency key, Stripe answers with the capture it already made,
and the capture is recorded once. PostgreSQL, the official `stripe` SDK over HTTP against the
emulator (not Stripe itself: there is no internet here), real worker processes."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests import processes
from tests.conftest import Api
from tests.payments.stripe_harness import API_KEY, Control, emulator_process
from tests.payments.support import hand_over, paid_order, payment_of, seed, stripe_app
from tests.processes import until

pytestmark = [pytest.mark.anyio]


@pytest.fixture
def emulator_url() -> Iterator[str]:
    with emulator_process() as url:
        yield url


@pytest.fixture
async def stripe_api(pg_url: str, clock: Any, emulator_url: str) -> AsyncIterator[Api]:
    async with stripe_app(pg_url, clock, emulator_url) as api:
        yield api


def start_worker(db_url: str, emulator_url: str) -> tuple[subprocess.Popen[bytes], str]:
    return processes.start_worker(db_url, {
        "PROMESSA_CONSUMER_LEASE_SECONDS": "3", "PROMESSA_DB_POOL_SIZE": "3",
        "PROMESSA_CONSUMER_BACKOFF": "0.2,0.5,1", "PROMESSA_STRIPE_API_KEY": API_KEY,
        "PROMESSA_STRIPE_API_BASE": emulator_url, "PROMESSA_STRIPE_TIMEOUT_SECONDS": "60"},
        prefix="promessa-pay-worker-")


async def rows(api: Api, sql: str, **params: Any) -> list[Any]:
    async with api.app.state.db.reader.begin() as conn:
        return list((await conn.execute(sa.text(sql), params)).all())


@pytest.mark.slow
async def test_a_worker_killed_after_stripe_captured_records_the_capture_once(
        stripe_api: Api, tokens: dict[str, str], pg_url: str, emulator_url: str) -> None:
    api = stripe_api
    await seed(api, tokens)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        stripe = Control(http)
        intent = (await stripe.create_intent(2980, "eur")).json()  # 24.90 + 4.90 shipping
        assert intent["status"] == "requires_capture", intent
        first, first_log = start_worker(pg_url, emulator_url)
        second = None
        try:
            async def registered() -> bool:
                return bool(await rows(api, "SELECT 1 FROM consumer_positions "
                                            "WHERE consumer = 'payments'"))

            await until(registered, seconds=60, what="the worker's start", log=first_log)
            number = await paid_order(api, "pay-crash-001", reference=intent["id"],
                                      provider_name="stripe",
                                      lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}])
            await stripe.control("hold_after_capture", {"enabled": True})
            await hand_over(api, tokens, number, "WH-MIL")

            async def captured_at_stripe() -> bool:
                return bool(await stripe.calls("/capture"))

            await until(captured_at_stripe, seconds=60, what="the capture", log=first_log)
            first.send_signal(signal.SIGKILL)
            first.wait(15)
            # Stripe has the money; we have only the claim
            assert (await stripe.intent(intent["id"]))["amount_received"] == 2980
            [(status, attempts)] = await rows(api, "SELECT status, attempts FROM "
                                                   "payment_transactions WHERE kind = 'CAPTURE'")
            assert (status, attempts) == ("PENDING", 1)

            await stripe.control("hold_after_capture", {"enabled": False})
            second, second_log = start_worker(pg_url, emulator_url)

            async def recorded() -> bool:
                # the capture recorded, and the job that did it settled (the worker writes
                # DONE just after the record: killing it in between leaves a lease behind)
                paid = await payment_of(api, number, tokens["agent"])
                return bool(paid["status"] == "CAPTURED") and not await rows(
                    api, "SELECT id FROM consumer_jobs WHERE consumer = 'payments' "
                         "AND status != 'DONE'")

            await until(recorded, seconds=60, what="the record after the takeover",
                        log=second_log)
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait(15)
        calls = await stripe.calls("/capture")
        assert len(calls) == 2  # asked twice …
        assert len({c["idempotency_key"] for c in calls}) == 1  # … with one key
        assert calls[0]["idempotency_key"].startswith("capture:")
        assert [c["replayed"] for c in calls] == [False, True]
        assert (await stripe.intent(intent["id"]))["amount_received"] == 2980  # … taken once
    paid = await payment_of(api, number, tokens["agent"])
    assert Decimal(paid["captured"]["amount"]) == Decimal("29.80")
    assert [(t["kind"], t["status"]) for t in paid["transactions"]] == [
        ("AUTHORIZATION", "SUCCEEDED"), ("CAPTURE", "SUCCEEDED")]
    events = await rows(api, "SELECT count(*) FROM outbox WHERE type = 'PAYMENT_CAPTURED' "
                             "AND stream = '$all'")
    assert events[0][0] == 1
    assert await rows(api, "SELECT id FROM consumer_jobs WHERE consumer = 'payments' "
                           "AND status != 'DONE'") == []
