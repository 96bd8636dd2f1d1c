"""When the money does not move: a capture the provider keeps refusing is retried, parked and
shown to an agent, who gets it through once the provider recovers — captured once; an
authorisation that lapses before the goods ship holds the order. And who sees what of a
payment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.integration.timers import Timers
from tests.conftest import Api
from tests.invariants import violations
from tests.payments.support import (
    TWO_PARCELS,
    consumer,
    drain,
    hand_over,
    paid_order,
    payment_of,
    provider,
    run,
    seed,
)

pytestmark = pytest.mark.anyio
PARKED = """query { parkedEvents(consumer: "payments") { edges { node {
  eventType attempts error } } } }"""


async def test_a_failing_capture_is_parked_shown_to_an_agent_and_captured_once_when_retried(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api, retries=2)
    await payments.take_in()
    number = await paid_order(api, "pay-fail-0001", reference="pi_capturefail_1",
                              lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}])
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)  # three attempts, then parked

    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], Decimal(paid["captured"]["amount"])) == ("FAILED", Decimal("0.00"))
    [capture] = [t for t in paid["transactions"] if t["kind"] == "CAPTURE"]
    assert capture["status"] == "FAILED"
    parked = (await api.data(PARKED, token=tokens["admin"]))["parkedEvents"]["edges"]
    assert [(e["node"]["eventType"], e["node"]["attempts"]) for e in parked] == [
        ("FULFILLMENT_SHIPPED", 3)]
    assert "PAYMENT_DECLINED" in parked[0]["node"]["error"]
    problems = (await run(api, "CustomerProblems", {"email": "ada@example.com"},
                          tokens["agent"]))["openProblems"]
    assert [(p["orderNumber"], p["kind"]) for p in problems] == [
        (number, "PAYMENT_CAPTURE_FAILED")]
    on_order = await api.data("""query($n: String!) { order(number: $n) {
        openProblems { kind detail } } }""", {"n": number}, token=tokens["agent"])
    assert [p["kind"] for p in on_order["order"]["openProblems"]] == ["PAYMENT_CAPTURE_FAILED"]
    customer_sees = await api.data("""query($n: String!) { order(number: $n) {
        openProblems { kind } payment { status } } }""", {"n": number}, token=tokens["ada"])
    assert customer_sees["order"] == {"openProblems": [], "payment": {"status": "FAILED"}}

    still = await run(api, "RetryPaymentCapture", {"input": {"orderNumber": number}},
                      tokens["agent"])
    assert [e["code"] for e in still["userErrors"]] == ["PAYMENT_DECLINED"]
    provider(api).heal("pi_capturefail_1")
    retried = await run(api, "RetryPaymentCapture", {"input": {"orderNumber": number}},
                        tokens["agent"])
    assert retried["userErrors"] == []
    assert (retried["order"]["payment"]["status"],
            Decimal(retried["order"]["payment"]["captured"]["amount"])) == (
        "CAPTURED", Decimal("29.80"))
    moved = [c for c in provider(api).moved.values() if c.kind == "capture"]
    assert len(moved) == 1
    # a refusal moved no money, so each new attempt was a new request with a new key
    # (Stripe answers a key with its stored refusal for a day): capture:<id>, …#2, …#3
    keys = [c.key for c in provider(api).calls if c.kind == "capture"]
    assert len(keys) == len(set(keys)) == 5 and keys[0] is not None
    assert keys[1:] == [f"{keys[0]}#{n}" for n in range(2, 6)]
    assert moved[0].key == keys[-1]
    # the parked job is done, and a later round finds nothing to capture again
    assert (await api.data(PARKED, token=tokens["admin"]))["parkedEvents"]["edges"] == []
    await drain(payments)
    assert len([c for c in provider(api).moved.values() if c.kind == "capture"]) == 1
    assert (await run(api, "CustomerProblems", {"email": "ada@example.com"},
                      tokens["agent"]))["openProblems"] == []
    assert await violations(db_url) == []


async def test_an_authorisation_that_lapses_before_shipping_holds_the_order(
        api: Api, tokens: dict[str, str], clock) -> None:
    await seed(api, tokens)
    number = await paid_order(api, "pay-lapse-001", reference="pi_lapse", lines=TWO_PARCELS)
    paid = (await api.data("""query($n: String!) { order(number: $n) { payment {
        expiresAt } } }""", {"n": number}, token=tokens["agent"]))["order"]["payment"]
    assert paid["expiresAt"] == (clock.current + timedelta(days=7)).isoformat()
    timers = Timers(api.app.state.deps.app)
    assert (await timers.tick())["lapsed payment authorisations"] == 0
    clock.current = clock.current + timedelta(days=7, minutes=1)
    assert (await timers.tick())["lapsed payment authorisations"] == 1
    assert (await timers.tick())["lapsed payment authorisations"] == 0  # once
    held = (await api.data("""query($n: String!) { order(number: $n) { status holdReason
        openProblems { kind } fulfillments { nextStatuses } } }""", {"n": number},
        token=tokens["agent"]))["order"]
    assert held["status"] == "ON_HOLD"
    assert "authorization expired" in held["holdReason"]
    # a week on, the promised date has passed too
    assert sorted(p["kind"] for p in held["openProblems"]) == [
        "LATE", "ON_HOLD", "PAYMENT_AUTHORIZATION_EXPIRED"]
    # nothing moves forward (and so nothing ships unpaid): it may only be rejected or cancelled
    assert {s for f in held["fulfillments"] for s in f["nextStatuses"]} <= {
        "REJECTED", "CANCELLED"}


async def test_customers_see_amounts_not_references_and_stores_see_no_payment(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    number = await paid_order(api, "pay-view-0001", reference="pi_secret_ref",
                              lines=TWO_PARCELS, token=tokens["ada"])
    query = """query($n: String!) { order(number: $n) { payment { status provider reference
        authorized { amount } transactions { kind reference error } } } }"""
    agent = (await api.data(query, {"n": number}, token=tokens["agent"]))["order"]["payment"]
    assert agent["reference"] == "pi_secret_ref"
    assert agent["transactions"][0]["reference"] == "pi_secret_ref"
    ada = (await api.data(query, {"n": number}, token=tokens["ada"]))["order"]["payment"]
    assert (ada["status"], ada["reference"], ada["authorized"]) == (
        "AUTHORIZED", None, {"amount": "41.80"})
    assert [t["reference"] for t in ada["transactions"]] == [None]
    store = (await api.data(query, {"n": number}, token=tokens["store_roma"]))["order"]
    assert store == {"payment": None}
    bob = await api.post(query, {"n": number}, token=tokens["bob"])
    assert bob["data"]["order"] is None
    unpaid_number = (await api.data("""mutation { placeOrder(input: {idempotencyKey:
        "pay-view-0002", channel: "web", customer: {email: "ada@example.com"},
        lines: [{sku: "MUG-NAME", quantity: 1}], delivery: {method: PICKUP,
        pickupLocation: "ST-ROMA"}}) { order { number payment { status provider } } } }""",
        token=tokens["ada"]))["placeOrder"]["order"]
    assert unpaid_number["payment"] == {"status": "NOT_REQUIRED", "provider": None}


async def test_bad_payment_amounts_are_refused_and_nothing_is_asked(
        api: Api, tokens: dict[str, str]) -> None:
    from tests.api.test_place_order import PLACE, order_input

    await seed(api, tokens)
    lines = [{"sku": "MUG-NAME", "quantity": 1}]
    for i, (provider_name, amount) in enumerate((
            ("test", "NaN"), ("test", "sNaN"), ("test", "Infinity"), ("test", "1e30"),
            ("test", "99.999"), ("test", "-5"), ("test", "0"), ("offline", "16.90"))):
        answer = await api.post(PLACE, {"input": order_input(f"pay-amt-{i:05d}", lines=lines,
                                                             payment={
            "provider": provider_name, "reference": f"pi_amt_{i}", "amount": amount})})
        placed = answer["data"]["placeOrder"]
        assert placed["order"] is None, (amount, answer)
        assert [(e["field"], e["code"]) for e in placed["userErrors"]] == [
            (["payment", "amount"], "INVALID_INPUT")], (amount, placed)
    assert [c for c in provider(api).calls if c.reference.startswith("pi_amt_")] == []


async def test_stores_read_no_money_on_the_timeline(api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-tl-00001", reference="pi_tl", lines=TWO_PARCELS)
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    query = """query($n: String!) { order(number: $n) { timeline { type message } } }"""
    store = (await api.data(query, {"n": number}, token=tokens["store_roma"]))["order"]
    assert [t for t in store["timeline"] if t["type"].startswith("PAYMENT_")] == []
    ada = (await api.data(query, {"n": number}, token=tokens["ada"]))["order"]
    assert [t["type"] for t in ada["timeline"] if t["type"].startswith("PAYMENT_")] == [
        "PAYMENT_AUTHORIZED", "PAYMENT_CAPTURED"]
