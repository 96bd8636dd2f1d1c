"""Races through the ASGI app, on both engines: no oversell, exactly-once orders, atomicity."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest

from tests.api.test_place_order import PLACE, STOCK_READER, order_input
from tests.conftest import seed_contract_network
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio

ROUNDS = int(os.environ.get("PROMESSA_RACE_ROUNDS", "5"))
BUYERS = 50
DATA_TABLES = ("orders", "order_lines", "fulfillments", "fulfillment_lines", "order_timeline",
               "idempotency_keys", "inventory_ledger", "outbox")


async def stock(api, tokens, *, on_hand: dict[str, int], safety: int = 0) -> None:
    levels = ", ".join(f'{{sku: "TSHIRT-BLU-M", location: "{loc}", onHand: {n}, '
                       f'safetyStock: {safety}}}' for loc, n in on_hand.items())
    result = await api.data(f'mutation {{ setInventory(input: {{reason: "COUNT", levels: '
                            f'[{levels}]}}) {{ userErrors {{ code message }} }} }}',
                            token=tokens["integration"])
    assert result["setInventory"]["userErrors"] == []


async def test_fifty_buyers_race_for_five_units_and_exactly_five_win(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    for round_ in range(ROUNDS):
        # 5 sellable units split over two locations, behind safety stock of 2 each; units
        # sold in earlier rounds stay reserved on top
        held = await _reserved_at(api)
        await stock(api, tokens, on_hand={"WH-MIL": held.get("WH-MIL", 0) + 2 + 3,
                                          "ST-ROMA": held.get("ST-ROMA", 0) + 2 + 2}, safety=2)
        before = await _reserved(api)
        answers = await asyncio.gather(*(
            api.post(PLACE, {"input": order_input(f"race-{round_}-{i:04d}", lines=[
                {"sku": "TSHIRT-BLU-M", "quantity": 1}])}) for i in range(BUYERS)))
        codes = [tuple(e["code"] for e in a["data"]["placeOrder"]["userErrors"])
                 for a in answers]
        assert codes.count(()) == 5, codes
        assert codes.count(("INSUFFICIENT_STOCK",)) == BUYERS - 5
        assert sum(await _reserved(api)) - sum(before) == 5
        assert await violations(db_url) == []
    rows = await count_rows(db_url, "orders")
    assert rows["orders"] == 5 * ROUNDS


async def _reserved(api) -> list[int]:
    rows = (await api.data('query { availability(skus: ["TSHIRT-BLU-M"], channel: "web") '
                           '{ locations { reserved } } }', token=STOCK_READER)
            )["availability"][0]["locations"]
    return [x["reserved"] for x in rows]


async def _reserved_at(api) -> dict[str, int]:
    rows = (await api.data('query { availability(skus: ["TSHIRT-BLU-M"], channel: "web") '
                           '{ locations { location { code } reserved } } }', token=STOCK_READER)
            )["availability"][0]["locations"]
    return {x["location"]["code"]: x["reserved"] for x in rows}


async def test_twenty_identical_requests_with_one_key_make_one_order(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    answers = await asyncio.gather(*(api.post(PLACE, {"input": order_input("same-key-0001")})
                                     for _ in range(20)))
    # the same answer each time (extensions.cost differs: each request spent its own cost)
    assert all(a["data"] == answers[0]["data"] and "errors" not in a for a in answers), answers
    assert answers[0]["data"]["placeOrder"]["userErrors"] == []
    assert (await count_rows(db_url, "orders"))["orders"] == 1
    assert sum(await _reserved(api)) == 2
    assert await violations(db_url) == []


class Boom(RuntimeError):
    pass


def faulty(uow_factory, *, stage: str):
    """A unit of work whose transaction fails at `stage`, after earlier writes happened."""
    def make():
        tx = uow_factory()

        class Faulty:
            async def __aenter__(self):
                inner = await tx.__aenter__()
                if stage == "ledger":
                    async def fail(*_a, **_k):
                        raise Boom("disk full while writing the ledger")
                    inner.inventory.append_ledger = fail
                return inner

            async def __aexit__(self, *exc):
                if stage == "after_commit" and exc[0] is None and tx.committed:
                    await tx.__aexit__(*exc)
                    raise Boom("crash between commit and response")
                return await tx.__aexit__(*exc)

        return Faulty()
    return make


async def test_failure_mid_transaction_leaves_nothing_behind(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    before = await count_rows(db_url, *DATA_TABLES)
    levels_before = await _reserved(api)
    deps = api.app.state.deps
    api.app.state.deps = dataclasses.replace(deps, uow=faulty(deps.uow, stage="ledger"))
    result = await api.post(PLACE, {"input": order_input()})
    assert result["data"] is None or result["data"]["placeOrder"] is None
    [error] = result["errors"]
    assert error["message"] == "Unexpected error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert "Boom" not in str(result) and "Traceback" not in str(result)
    assert await count_rows(db_url, *DATA_TABLES) == before
    assert await _reserved(api) == levels_before
    assert await violations(db_url) == []


async def test_crash_between_commit_and_response_then_retry_returns_the_one_order(
        api, tokens, db_url):
    await seed_contract_network(api, tokens)
    deps = api.app.state.deps
    api.app.state.deps = dataclasses.replace(deps, uow=faulty(deps.uow, stage="after_commit"))
    lost = await api.post(PLACE, {"input": order_input("crash-key-01")})
    assert lost["errors"][0]["extensions"]["code"] == "INTERNAL"
    api.app.state.deps = deps
    retried = (await api.data(PLACE, {"input": order_input("crash-key-01")}))["placeOrder"]
    assert retried["userErrors"] == []
    listed = await api.data("query { orders(first: 5) { edges { node { number } } } }",
                            token=tokens["agent"])
    assert [e["node"]["number"] for e in listed["orders"]["edges"]] == [
        retried["order"]["number"]]
    assert sum(await _reserved(api)) == 2
    assert await violations(db_url) == []
