"""The built-in `test` provider as the issue and the README describe it, by what the reference
holds: `decline` is declined at checkout, `capturefail` fails every capture, `slow` answers
after 2 s, anything else authorises the amount it is sent. No database: the provider alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from api.payments import providers  # its TestProvider is no test class for pytest to collect
from domain.kernel import errors
from domain.kernel.money import Money
from domain.payments.ports import Authorization
from tests.conftest import FixedClock

pytestmark = pytest.mark.anyio
EUR = Money(Decimal("41.80"), "EUR")


async def test_a_slow_reference_is_held_and_the_others_answer_at_once() -> None:
    """`slow` waits 2 s by default (no wall clock here: a busy machine would make that
    flaky); held on the test's gate instead, a slow call waits while a quick one answers."""
    provider = providers.TestProvider(FixedClock())
    assert provider.slow_seconds == 2.0
    provider.gate = asyncio.Event()
    slow = asyncio.create_task(provider.authorization("pi_slow_1", expected=EUR))
    held = asyncio.create_task(provider.capture("pi_slow_1", EUR, final=True,
                                                idempotency_key="capture:f1"))
    async with asyncio.timeout(10):  # answered at once, while the slow ones wait
        await provider.authorization("pi_quick_1", expected=EUR)
        await provider.capture("pi_quick_1", EUR, final=True, idempotency_key="capture:f2")
    assert not slow.done() and not held.done()
    provider.gate.set()
    async with asyncio.timeout(10):
        await slow
        await held


async def test_any_other_reference_authorises_what_it_is_sent_for_seven_days() -> None:
    clock = FixedClock()
    provider = providers.TestProvider(clock)
    sent = Money(Decimal("50.00"), "EUR")
    assert await provider.authorization("pi_other", expected=sent) == Authorization(
        sent, clock.current + timedelta(days=providers.CARD_AUTHORIZATION_DAYS))
    assert providers.CARD_AUTHORIZATION_DAYS == 7


async def test_decline_is_declined_at_checkout_and_capturefail_at_every_capture() -> None:
    provider = providers.TestProvider(FixedClock())
    with pytest.raises(errors.PaymentDeclined):
        await provider.authorization("pi_decline_1", expected=EUR)
    assert (await provider.authorization("pi_capturefail_1", expected=EUR)).amount == EUR
    for attempt in range(3):
        with pytest.raises(errors.PaymentDeclined):
            await provider.capture("pi_capturefail_1", EUR, final=True,
                                   idempotency_key=f"capture:f1#{attempt}")
    assert provider.moved == {}
    # voids and refunds are not captures: they go through
    assert await provider.void("pi_capturefail_1", idempotency_key="void:o1")
