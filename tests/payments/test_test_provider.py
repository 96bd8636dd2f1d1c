"""The built-in `test` provider as the issue and the README describe it, by what the reference
holds: `decline` is declined at checkout, `capturefail` fails every capture, `slow` answers
after 2 s, anything else authorises the amount it is sent. No database: the provider alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
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


async def timed(call: Awaitable[object]) -> float:
    """Seconds `call` took to answer."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await call
    return loop.time() - started


async def test_a_slow_reference_answers_after_two_seconds_and_the_others_at_once() -> None:
    provider = providers.TestProvider(FixedClock())
    assert 2.0 <= await timed(provider.authorization("pi_slow_1", expected=EUR)) < 3.0
    assert 2.0 <= await timed(provider.capture("pi_slow_1", EUR, final=True,
                                               idempotency_key="capture:f1")) < 3.0
    assert await timed(provider.authorization("pi_quick_1", expected=EUR)) < 0.5
    assert await timed(provider.capture("pi_quick_1", EUR, final=True,
                                        idempotency_key="capture:f2")) < 0.5


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
