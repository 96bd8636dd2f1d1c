"""Money under concurrency, on both engines: captures racing each other never take more than
the authorisation (nor a parcel twice), a refund racing a capture never gives back more than
was taken, and no transaction is open while a provider answers."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from domain.access import Principal, Role
from domain.kernel import errors
from tests.api.test_place_order import PLACE, order_input
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
    seed,
)
from tests.payments.test_payment_flow import _returned

pytestmark = pytest.mark.anyio


def connections_in_use(api: Api) -> int:
    """Connections of the app's engines checked out now (a transaction holds one)."""
    db = api.app.state.db
    engines = {id(db.writer): db.writer, id(db.reader): db.reader}
    return sum(engine.pool.checkedout() for engine in engines.values())


async def test_captures_racing_each_other_take_each_parcel_once_and_never_more_than_held(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    slow = provider(api)
    slow.slow_seconds = 0.2  # every call of a `slow` reference overlaps the racing ones
    app = api.app.state.deps.app
    numbers = [await paid_order(api, f"pay-race-{i:04d}", reference=f"pi_slow_race_{i}",
                                lines=TWO_PARCELS) for i in range(3)]
    for number in numbers:
        await hand_over(api, tokens, number, "ST-ROMA")
        await hand_over(api, tokens, number, "WH-MIL")
    # three settlers per order at once: the consumer, an agent's retry, another process
    results = await asyncio.gather(*(app.payments.settle(n) for n in numbers for _ in range(3)),
                                   return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    for i, number in enumerate(numbers):
        paid = await payment_of(api, number, tokens["agent"])
        assert (paid["status"], Decimal(paid["captured"]["amount"])) == (
            "CAPTURED", Decimal("41.80"))
        captures = [c for c in slow.moved.values()
                    if c.kind == "capture" and c.reference == f"pi_slow_race_{i}"]
        # both parcels left together: whichever is captured first carries the shipping
        assert sorted(c.amount.amount for c in captures if c.amount) in (
            [Decimal("16.90"), Decimal("24.90")], [Decimal("12.00"), Decimal("29.80")])
        asked = [c for c in slow.calls
                 if c.kind == "capture" and c.reference == f"pi_slow_race_{i}"]
        # asked again with the same keys at most, never with a new one
        assert {c.key for c in asked} == {c.key for c in captures}
    assert await violations(db_url) == []


async def test_a_refund_racing_a_capture_never_gives_back_more_than_was_taken(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    slow = provider(api)
    slow.slow_seconds = 0.2
    payments = consumer(api)
    await payments.take_in()
    app = api.app.state.deps.app
    number = await paid_order(api, "pay-rr-00001", reference="pi_slow_rr", lines=TWO_PARCELS,
                              token=tokens["ada"])
    await hand_over(api, tokens, number, "WH-MIL", deliver=True)
    await drain(payments)  # the T-shirt's parcel is captured, with the shipping
    first = Decimal((await payment_of(api, number, tokens["agent"]))["captured"]["amount"])
    assert first == Decimal("29.80")
    ret = await _returned(api, tokens, number, "TSHIRT-RED-M")
    await hand_over(api, tokens, number, "ST-ROMA")
    desk = Principal(Role.AGENT, "agent@promessa.example")
    # the agent gives back everything captured so far while the mug's capture is in flight
    results = await asyncio.gather(app.returns.refund(ret, amount=first, principal=desk),
                                   app.payments.settle(number), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == [], results
    paid = await payment_of(api, number, tokens["agent"])
    assert (Decimal(paid["refunded"]["amount"]), Decimal(paid["captured"]["amount"])) == (
        first, Decimal("41.80"))
    refunds = [c for c in provider(api).moved.values() if c.kind == "refund"]
    assert [c.amount.amount for c in refunds if c.amount] == [first]
    assert await violations(db_url) == []


async def test_a_refund_while_a_capture_is_in_flight_counts_only_what_was_taken(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    held = provider(api)
    payments = consumer(api)
    await payments.take_in()
    app = api.app.state.deps.app
    number = await paid_order(api, "pay-rr-00002", reference="pi_slow_rr2", lines=TWO_PARCELS,
                              token=tokens["ada"])
    await hand_over(api, tokens, number, "WH-MIL", deliver=True)
    await drain(payments)  # the T-shirt and the shipping: 29.80
    ret = await _returned(api, tokens, number, "TSHIRT-RED-M")
    await hand_over(api, tokens, number, "ST-ROMA")
    gate = held.gate = asyncio.Event()  # the mug's capture waits at the provider until set
    capturing = asyncio.create_task(app.payments.settle(number))
    desk = Principal(Role.AGENT, "agent@promessa.example")
    try:
        for _ in range(500):
            if any(c.kind == "capture" and c.amount is not None
                   and c.amount.amount == Decimal("12.00") for c in held.calls):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the mug's capture never reached the provider")
        assert connections_in_use(api) == 0  # the claim is committed; nothing is held
        # 12.00 is claimed but not taken: 35.00 is more than the 29.80 captured
        with pytest.raises(errors.RefundExceedsPaid):
            await asyncio.wait_for(app.returns.refund(ret, amount=Decimal("35.00"),
                                                      principal=desk), 10)
    finally:
        gate.set()
    await capturing
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], Decimal(paid["captured"]["amount"])) == ("CAPTURED",
                                                                     Decimal("41.80"))
    await app.returns.refund(ret, amount=Decimal("35.00"), principal=desk)  # taken now
    paid = await payment_of(api, number, tokens["agent"])
    assert Decimal(paid["refunded"]["amount"]) == Decimal("35.00")
    assert [c.amount.amount for c in held.moved.values() if c.kind == "refund" and c.amount] \
        == [Decimal("35.00")]
    assert await violations(db_url) == []


async def test_no_transaction_is_open_while_the_provider_answers_at_checkout(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    gate = provider(api).gate = asyncio.Event()  # the provider answers when the test says
    lines = [{"sku": "MUG-NAME", "quantity": 1}]
    slow = asyncio.create_task(api.data(PLACE, {"input": order_input(
        "pay-slow-0001", lines=lines, payment={"provider": "test",
                                                "reference": "pi_slow_checkout"})}))
    for _ in range(500):  # until the provider is being asked
        if any(c.reference == "pi_slow_checkout" for c in provider(api).calls):
            break
        await asyncio.sleep(0.01)
    # the same SKU, the same stock rows, the one SQLite writer: all free while it waits
    try:  # were a lock held while the provider answers, this would wait until the gate opens
        assert connections_in_use(api) == 0  # nor any transaction open, on either engine
        quick = await asyncio.wait_for(
            api.data(PLACE, {"input": order_input("pay-slow-0002", lines=lines)}), 30)
    finally:
        gate.set()
    assert quick["placeOrder"]["userErrors"] == []
    placed = (await slow)["placeOrder"]
    assert placed["userErrors"] == [] and placed["order"]["number"]
