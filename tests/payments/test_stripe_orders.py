"""Orders paid with Stripe (the official SDK against the Stripe emulator: there is no
internet here), on both engines: a card without multicapture is captured once, when the last
parcel leaves; an intent Stripe canceled itself is released without a problem."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.lifecycle import desk
from tests.conftest import Api
from tests.payments.stripe_harness import Control, emulator_process
from tests.payments.support import (
    TWO_PARCELS,
    consumer,
    drain,
    hand_over,
    paid_order,
    payment_of,
    seed,
    stripe_app,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with emulator_process() as url:
        yield url


@pytest.fixture
async def stripe_api(db_url: str, clock: Any, emulator_url: str) -> AsyncIterator[Api]:
    async with stripe_app(db_url, clock, emulator_url) as api:
        yield api


async def test_a_card_without_multicapture_is_captured_once_with_the_last_parcel(
        stripe_api: Api, tokens: dict[str, str], emulator_url: str) -> None:
    api = stripe_api
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        stripe = Control(http)
        intent = (await stripe.create_intent(4180, multicapture=False)).json()
        number = await paid_order(api, "pay-once-0001", reference=intent["id"],
                                  provider_name="stripe", lines=TWO_PARCELS)
        await hand_over(api, tokens, number, "ST-ROMA")
        await drain(payments)
        paid = await payment_of(api, number, tokens["agent"])
        # Stripe could not take the first parcel alone: nothing is asked yet
        asked = await stripe.calls(f"{intent['id']}/capture")
        assert (paid["status"], asked) == ("AUTHORIZED", [])
        await hand_over(api, tokens, number, "WH-MIL")
        await drain(payments)
        paid = await payment_of(api, number, tokens["agent"])
        assert (paid["status"], Decimal(paid["captured"]["amount"])) == (
            "CAPTURED", Decimal("41.80"))
        [capture] = await stripe.calls(f"{intent['id']}/capture")
        assert capture["params"]["final_capture"] in ("true", True)
        assert (await stripe.intent(intent["id"]))["amount_received"] == 4180


async def test_an_intent_stripe_canceled_itself_is_released_without_a_problem(
        stripe_api: Api, tokens: dict[str, str], emulator_url: str) -> None:
    api = stripe_api
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        stripe = Control(http)
        intent = (await stripe.create_intent(4180)).json()
        number = await paid_order(api, "pay-gone-0001", reference=intent["id"],
                                  provider_name="stripe", lines=TWO_PARCELS)
        # Stripe lets an authorisation lapse after seven days (a long backorder, say)
        canceled = await stripe.v1(f"/v1/payment_intents/{intent['id']}/cancel", {})
        assert canceled.status_code == 200, canceled.text
        cancelled = await desk(api, "cancelOrder", tokens["agent"], number=number,
                               reason="OUT_OF_STOCK")
        assert cancelled["userErrors"] == []
        await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert paid["status"] == "VOIDED"
    problems = await api.data("""query($n: String!) { order(number: $n) {
        openProblems { kind } } }""", {"n": number}, token=tokens["agent"])
    assert problems["order"]["openProblems"] == []


async def test_an_intent_in_another_currency_or_for_less_is_refused_and_nothing_is_written(
        stripe_api: Api, tokens: dict[str, str], emulator_url: str) -> None:
    from tests.api.test_place_order import PLACE, order_input

    api = stripe_api
    await seed(api, tokens)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        stripe = Control(http)
        dollars = (await stripe.create_intent(4180, "usd")).json()["id"]
        short = (await stripe.create_intent(4179)).json()["id"]  # the order costs 41.80
        for key, intent, code, field in (
                ("pay-usd-00001", dollars, "PAYMENT_DECLINED", ["payment", "reference"]),
                ("pay-low-00001", short, "PAYMENT_AMOUNT_TOO_LOW", ["payment", "amount"])):
            placed = (await api.data(PLACE, {"input": order_input(key, lines=TWO_PARCELS,
                                                                  payment={
                "provider": "stripe", "reference": intent})}))["placeOrder"]
            assert placed["order"] is None
            assert [(e["code"], e["field"]) for e in placed["userErrors"]] == [(code, field)]
        # asked, never captured nor cancelled
        for intent in (dollars, short):
            assert await stripe.calls(f"{intent}/capture") == []
            assert await stripe.calls(f"{intent}/cancel") == []
    orders = await api.data("{ orders(first: 5) { totalCount } }", token=tokens["agent"])
    assert orders["orders"]["totalCount"] == 0
