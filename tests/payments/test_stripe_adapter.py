"""StripeProvider against the Stripe emulator in its own process, over HTTP with the official
SDK: authorisations and their expiry, partial captures under our idempotency keys, replays,
voids, refunds within what was received, and which failures are final (PaymentDeclined) and
which may pass (PaymentProviderUnavailable)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from api.payments.stripe import StripeProvider, from_minor, to_minor
from domain.kernel import errors
from domain.kernel.money import Money
from domain.payments.ports import Authorization
from tests.payments.stripe_harness import API_KEY, Control, emulator_process
from tests.processes import free_port

pytestmark = pytest.mark.anyio
DAY = timedelta(days=1)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with emulator_process() as url:
        yield url


@pytest.fixture
async def emulator(emulator_url: str) -> AsyncIterator[Control]:
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        control = Control(http)
        await control.control("reset", {})
        yield control


@pytest.fixture
async def provider(emulator_url: str) -> AsyncIterator[StripeProvider]:
    stripe_provider = StripeProvider(API_KEY, base_url=emulator_url, timeout=1.0)
    yield stripe_provider
    await stripe_provider.aclose()


async def held(emulator: Control, amount: int, currency: str = "eur", **options: bool) -> str:
    """A PaymentIntent in requires_capture holding `amount` minor units."""
    created = await emulator.create_intent(amount, currency, **options)
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "requires_capture"
    return str(created.json()["id"])


async def test_authorization_is_what_the_intent_holds_until_its_capture_before(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 12345, extended=True)
    state = await emulator.intent(pi)

    authorization = await provider.authorization(pi, expected=eur("123.45"))

    capture_before = state["latest_charge"]["payment_method_details"]["card"]["capture_before"]
    assert capture_before == state["created"] + 30 * 86_400  # extended: not the 7-day default
    assert authorization == Authorization(
        eur("123.45"), datetime.fromtimestamp(capture_before, UTC))


async def test_authorization_without_capture_before_lapses_seven_days_after_creation(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    created = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    await emulator.intent(pi, created=int(created.timestamp()), capture_before=None)

    authorization = await provider.authorization(pi, expected=eur("50.00"))

    assert authorization.expires_at == created + 7 * DAY


async def test_authorization_after_a_partial_capture_is_what_is_left(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 10000)
    await provider.capture(pi, eur("25.50"), final=False, idempotency_key="f1")

    assert (await provider.authorization(pi, expected=eur("100.00"))).amount == eur("74.50")


async def test_a_declined_card_holds_nothing(emulator: Control, provider: StripeProvider) -> None:
    created = await emulator.create_intent(5000, method="pm_card_chargeDeclined")
    assert created.status_code == 402
    error = created.json()["error"]
    assert (error["type"], error["code"]) == ("card_error", "card_declined")
    pi = error["payment_intent"]["id"]

    with pytest.raises(errors.PaymentDeclined, match="is requires_payment_method, not"):
        await provider.authorization(pi, expected=eur("50.00"))


async def test_a_canceled_intent_holds_nothing(emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await provider.void(pi, idempotency_key="void-1")

    with pytest.raises(errors.PaymentDeclined, match="is canceled, not requires_capture"):
        await provider.authorization(pi, expected=eur("50.00"))


async def test_a_wrong_api_key_is_declined_without_showing_the_key(
        emulator: Control, emulator_url: str) -> None:
    pi = await held(emulator, 5000)
    wrong = "sk_test_wrong_key_that_must_not_leak_9876"
    provider = StripeProvider(wrong, base_url=emulator_url)
    try:
        with pytest.raises(errors.PaymentDeclined, match="refused the API key") as refused:
            await provider.authorization(pi, expected=eur("50.00"))
    finally:
        await provider.aclose()

    assert "9876" not in refused.value.message and wrong not in refused.value.message
    assert [c["status"] for c in await emulator.calls(pi)] == [401]


async def test_two_partial_captures_move_the_minor_amounts_under_our_keys(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 15000)

    first = await provider.capture(pi, eur("40.00"), final=False, idempotency_key="ful-1")
    last = await provider.capture(pi, eur("60.00"), final=True, idempotency_key="ful-2")

    state = await emulator.intent(pi)
    assert (first, last) == (state["latest_charge"]["id"], state["latest_charge"]["id"])
    assert (state["status"], state["amount_received"], state["amount_capturable"]) == (
        "succeeded", 10000, 0)  # the final capture released the other 50.00
    assert [(c["idempotency_key"], c["params"], c["replayed"])
            for c in await emulator.calls("/capture")] == [
        ("ful-1", {"amount_to_capture": "4000", "final_capture": "false"}, False),
        ("ful-2", {"amount_to_capture": "6000", "final_capture": "true"}, False)]


async def test_the_same_capture_key_twice_captures_once(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)

    first = await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")
    again = await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")

    state = await emulator.intent(pi)
    assert first == again == state["latest_charge"]["id"]
    assert (state["amount_received"], state["amount_capturable"]) == (1000, 4000)
    assert [c["replayed"] for c in await emulator.calls("/capture")] == [False, True]


async def test_the_same_key_for_another_amount_is_declined(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")

    with pytest.raises(errors.PaymentDeclined, match="Keys for idempotent requests"):
        await provider.capture(pi, eur("20.00"), final=False, idempotency_key="ful-1")

    assert (await emulator.intent(pi))["amount_received"] == 1000


async def test_capturing_more_than_is_held_is_declined(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)

    with pytest.raises(errors.PaymentDeclined, match="amount_too_large"):
        await provider.capture(pi, eur("50.01"), final=True, idempotency_key="ful-1")

    state = await emulator.intent(pi)
    assert (state["status"], state["amount_received"], state["amount_capturable"]) == (
        "requires_capture", 0, 5000)


async def test_without_multicapture_only_a_final_capture_is_taken(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000, multicapture=False)

    with pytest.raises(errors.PaymentDeclined, match="payment_intent_invalid_parameter"):
        await provider.capture(pi, eur("20.00"), final=False, idempotency_key="ful-1")
    await provider.capture(pi, eur("20.00"), final=True, idempotency_key="ful-2")

    state = await emulator.intent(pi)
    assert (state["status"], state["amount_received"], state["amount_capturable"]) == (
        "succeeded", 2000, 0)
    with pytest.raises(errors.PaymentDeclined, match="payment_intent_unexpected_state"):
        await provider.capture(pi, eur("10.00"), final=True, idempotency_key="ful-3")


async def test_void_releases_the_authorisation_once(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)

    assert await provider.void(pi, idempotency_key="void-1") == pi
    assert await provider.void(pi, idempotency_key="void-1") == pi  # replayed

    state = await emulator.intent(pi)
    assert (state["status"], state["amount_capturable"], state["cancellation_reason"]) == (
        "canceled", 0, "abandoned")
    assert [(c["idempotency_key"], c["replayed"]) for c in await emulator.calls("/cancel")] == [
        ("void-1", False), ("void-1", True)]
    # an intent already canceled (by us, or by Stripe when its authorisation lapsed) has
    # nothing left to release: a void under a new key is done, not refused
    assert await provider.void(pi, idempotency_key="void-2") == pi


async def test_void_of_a_captured_intent_is_refused(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await provider.capture(pi, eur("50.00"), final=True, idempotency_key="all")
    with pytest.raises(errors.PaymentDeclined, match="succeeded"):
        await provider.void(pi, idempotency_key="void-late")


async def test_authorization_says_whether_the_card_captures_in_parts(
        emulator: Control, provider: StripeProvider) -> None:
    multi = await held(emulator, 5000)
    once = (await emulator.create_intent(5000, multicapture=False)).json()["id"]
    assert (await provider.authorization(multi, expected=eur("50.00"))).partial is True
    assert (await provider.authorization(once, expected=eur("50.00"))).partial is False


async def test_void_after_a_partial_capture_keeps_what_was_taken(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await provider.capture(pi, eur("30.00"), final=False, idempotency_key="ful-1")

    await provider.void(pi, idempotency_key="void-1")

    state = await emulator.intent(pi)
    assert (state["status"], state["amount_received"], state["amount_capturable"]) == (
        "succeeded", 3000, 0)


async def test_refunds_give_back_at_most_what_was_received(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 8000)
    await provider.capture(pi, eur("50.00"), final=True, idempotency_key="ful-1")

    refund = await provider.refund(pi, eur("20.00"), idempotency_key="ret-1")
    with pytest.raises(errors.PaymentDeclined, match=r"amount_too_large.*\(3000\)"):
        await provider.refund(pi, eur("30.01"), idempotency_key="ret-2")
    rest = await provider.refund(pi, eur("30.00"), idempotency_key="ret-3")
    with pytest.raises(errors.PaymentDeclined, match="charge_already_refunded"):
        await provider.refund(pi, eur("0.01"), idempotency_key="ret-4")

    state = await emulator.intent(pi)
    assert [(r["id"], r["amount"]) for r in state["refunds"]] == [(refund, 2000), (rest, 3000)]
    assert state["latest_charge"]["amount_refunded"] == 5000
    assert [c["params"] for c in await emulator.calls("/refunds")][0] == {
        "payment_intent": pi, "amount": "2000"}


async def test_the_same_refund_key_twice_refunds_once(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 8000)
    await provider.capture(pi, eur("50.00"), final=True, idempotency_key="ful-1")

    first = await provider.refund(pi, eur("20.00"), idempotency_key="refund:claim-1")
    again = await provider.refund(pi, eur("20.00"), idempotency_key="refund:claim-1")

    state = await emulator.intent(pi)
    assert first == again and [(r["id"], r["amount"]) for r in state["refunds"]] == [
        (first, 2000)]
    assert [(c["idempotency_key"], c["replayed"]) for c in await emulator.calls("/refunds")] \
        == [("refund:claim-1", False), ("refund:claim-1", True)]


async def test_a_refund_before_any_capture_is_declined(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 8000)

    with pytest.raises(errors.PaymentDeclined, match="no captured charge"):
        await provider.refund(pi, eur("1.00"), idempotency_key="ret-1")


@pytest.mark.parametrize(("status", "type_"), [(500, "api_error"), (503, "api_error"),
                                              (429, "rate_limit_error")])
async def test_an_outage_is_unavailable_and_the_retry_captures_once(
        emulator: Control, provider: StripeProvider, status: int, type_: str) -> None:
    pi = await held(emulator, 5000)
    await emulator.control("faults", {"path": "/capture$", "count": 1, "status": status,
                                    "type": type_})

    with pytest.raises(errors.PaymentProviderUnavailable, match=f"HTTP {status}"):
        await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")
    await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")

    assert (await emulator.intent(pi))["amount_received"] == 1000
    assert [(c["status"], c["replayed"]) for c in await emulator.calls("/capture")] == [
        (status, False), (200, False)]


async def test_a_card_error_is_declined(emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await emulator.control("faults", {"path": "/capture$", "count": 1, "status": 402,
                                    "type": "card_error", "code": "card_declined"})

    with pytest.raises(errors.PaymentDeclined, match=r"\(card_declined\)"):
        await provider.capture(pi, eur("10.00"), final=True, idempotency_key="ful-1")


async def test_a_hang_beyond_the_timeout_is_unavailable(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await emulator.control("faults", {"path": f"/{pi}$", "count": 1, "hang": True})

    started = time.monotonic()
    with pytest.raises(errors.PaymentProviderUnavailable, match="timed out"):
        await provider.authorization(pi, expected=eur("50.00"))

    assert 1.0 <= time.monotonic() - started < 5
    assert (await provider.authorization(pi, expected=eur("50.00"))).amount == eur("50.00")


async def test_a_capture_performed_but_never_answered_is_replayed_on_retry(
        emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 5000)
    await emulator.control("hold_after_capture", {"enabled": True})

    with pytest.raises(errors.PaymentProviderUnavailable, match="timed out"):
        await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")
    assert (await emulator.intent(pi))["amount_received"] == 1000  # taken, though unanswered
    await emulator.control("hold_after_capture", {"enabled": False})
    charge = await provider.capture(pi, eur("10.00"), final=False, idempotency_key="ful-1")

    state = await emulator.intent(pi)
    assert (charge, state["amount_received"]) == (state["latest_charge"]["id"], 1000)
    assert [(c["status"], c["replayed"]) for c in await emulator.calls("/capture")] == [
        (None, False), (200, True)]


async def test_nobody_listening_is_unavailable() -> None:
    provider = StripeProvider(API_KEY, base_url=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(errors.PaymentProviderUnavailable,
                           match=r"could not be reached \(ConnectError\)"):
            await provider.void("pi_123", idempotency_key="void-1")
    finally:
        await provider.aclose()


async def test_yen_are_whole_units(emulator: Control, provider: StripeProvider) -> None:
    pi = await held(emulator, 15000, "jpy")

    authorization = await provider.authorization(pi, expected=Money(Decimal("15000"), "JPY"))
    await provider.capture(pi, Money(Decimal("4500"), "JPY"), final=False, idempotency_key="f1")

    assert authorization.amount == Money(Decimal("15000.00"), "JPY")
    assert [c["params"]["amount_to_capture"] for c in await emulator.calls("/capture")] == ["4500"]
    assert (await emulator.intent(pi))["amount_capturable"] == 10500
    with pytest.raises(errors.PaymentDeclined, match="only whole units of JPY"):
        await provider.capture(pi, Money(Decimal("0.50"), "JPY"), final=True,
                               idempotency_key="f2")


async def test_minor_units_follow_stripe_currency_table() -> None:
    assert [to_minor(Money(Decimal(a), c)) for a, c in [
        ("12.34", "EUR"), ("1500", "JPY"), ("1500", "krw"), ("12.34", "KWD"), ("5", "ISK"),
        ("0.01", "USD")]] == [1234, 1500, 1500, 12340, 500, 1]
    assert [from_minor(m, c) for m, c in [(1234, "eur"), (1500, "jpy"), (12345, "kwd"),
                                          (500, "isk")]] == [
        eur("12.34"), Money(Decimal("1500"), "JPY"), Money(Decimal("12.34"), "KWD"),
        Money(Decimal("5"), "ISK")]
    with pytest.raises(errors.PaymentDeclined, match="only whole units of ISK"):
        to_minor(Money(Decimal("5.50"), "ISK"))


async def test_a_reference_that_is_not_a_payment_intent_is_declined_unasked(
        emulator: Control, provider: StripeProvider) -> None:
    for reference in ("", "pi_", "ch_123", "pi_1/../refunds"):
        with pytest.raises(errors.PaymentDeclined, match="not a Stripe PaymentIntent id"):
            await provider.authorization(reference, expected=eur("1.00"))

    assert await emulator.calls() == []
