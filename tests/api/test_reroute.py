"""rerouteFulfillment: customer service moves unpicked work to another location, end to end
through the API on both engines.

With `toLocation` all of the units go there or nothing changes; without it the engine picks,
exactly as when the location itself rejects the work. The old reservation is released and the
new one made in one transaction, with the ledger, timeline and events to show it.
"""

from __future__ import annotations

import anyio
import pytest

from tests.api.lifecycle import fulfillment_ids, ledger, levels, order, place, rows, step
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


def _work(got: dict) -> list[tuple[str, str, str | None]]:
    return [(f["location"]["code"], f["status"], f["reason"]) for f in got["fulfillments"]]


@pytest.mark.parametrize("to", ["WH-MIL", None])
async def test_an_agent_moves_a_store_s_work_to_the_warehouse(network, tokens, db_url, to):
    number = (await place(network, f"reroute-move-{to}"))["number"]  # 2 T-shirts from Rome
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    accepted = await step(network, "acceptFulfillment", rome, tokens["store_roma"])
    assert accepted["userErrors"] == []

    moved = await step(network, "rerouteFulfillment", rome, tokens["agent"],
                       reason="STORE_CLOSED_EARLY", **({"toLocation": to} if to else {}))

    assert moved["userErrors"] == []
    assert moved["fulfillment"]["status"] == "REJECTED"
    assert moved["order"] == {"number": number, "status": "ALLOCATED"}
    got = await order(network, number, tokens["agent"])
    assert _work(got) == [("ST-ROMA", "REJECTED", "STORE_CLOSED_EARLY"),
                          ("WH-MIL", "ASSIGNED", None)]
    assert [(t["type"], t["message"], t["actorRole"]) for t in got["timeline"]][-2:] == [
        ("FULFILLMENT_REROUTED", "Work moved away from ST-ROMA (2 units): STORE_CLOSED_EARLY",
         "agent"),
        ("ORDER_RESOURCED", "2 units re-sourced to WH-MIL after they were moved away from "
                            "ST-ROMA", "system")]
    assert (await levels(network))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 0)
    assert (await levels(network))[("TSHIRT-BLU-M", "WH-MIL")] == (120, 2)
    assert (await ledger(db_url, "TSHIRT-BLU-M", "ST-ROMA"))[-1] == (0, -2, "REJECTED", number)
    assert (await ledger(db_url, "TSHIRT-BLU-M", "WH-MIL"))[-1] == (0, 2, "RESOURCED", number)
    events = await rows(db_url, "SELECT stream, type FROM outbox WHERE stream IN "
                                "('location:WH-MIL', 'location:ST-ROMA') "
                                "ORDER BY stream, sequence")
    assert events[-2:] == [("location:ST-ROMA", "FULFILLMENT_REROUTED"),
                           ("location:WH-MIL", "FULFILLMENT_CREATED")]
    assert await violations(db_url) == []


async def test_a_location_that_cannot_take_all_of_it_changes_nothing(network, tokens, db_url):
    number = (await place(network, "reroute-none-01",
                          lines=[{"sku": "LAMP-ARCO", "quantity": 1}]))["number"]
    milan = (await fulfillment_ids(network, number, tokens["agent"]))["WH-MIL"]
    before_levels, before = await levels(network), await order(network, number, tokens["agent"])

    refused = await step(network, "rerouteFulfillment", milan, tokens["agent"],
                         reason="CUSTOMER_REQUEST", toLocation="ST-ROMA")

    assert refused["fulfillment"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("LOCATION_CANNOT_SUPPLY", ["toLocation"])]
    assert "ST-ROMA cannot take all of this work now" in refused["userErrors"][0]["message"]
    assert await levels(network) == before_levels
    assert await order(network, number, tokens["agent"]) == before
    assert await violations(db_url) == []


@pytest.mark.parametrize(("to", "code"), [("ST-ROMA", "INVALID_INPUT"),
                                          ("XX-NOPE", "UNKNOWN_LOCATION")])
async def test_the_same_or_an_unknown_location_is_refused(network, tokens, to, code):
    number = (await place(network, f"reroute-bad-{to}"))["number"]
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    before = await order(network, number, tokens["agent"])

    refused = await step(network, "rerouteFulfillment", rome, tokens["agent"],
                         reason="CUSTOMER_REQUEST", toLocation=to)

    assert [e["code"] for e in refused["userErrors"]] == [code]
    assert await order(network, number, tokens["agent"]) == before


async def test_picked_work_stays_where_it_is(network, tokens):
    number = (await place(network, "reroute-picked"))["number"]
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment"):
        assert (await step(network, name, rome, tokens["store_roma"]))["userErrors"] == []

    refused = await step(network, "rerouteFulfillment", rome, tokens["agent"],
                         reason="CUSTOMER_REQUEST", toLocation="WH-MIL")

    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]
    assert "PICKED" in refused["userErrors"][0]["message"]


async def test_only_customer_service_reroutes(network, tokens):
    number = (await place(network, "reroute-auth-01", token=tokens["ada"]))["number"]
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    before_levels, before = await levels(network), await order(network, number, tokens["agent"])

    for who in ("store_roma", "store_mil", "ada", "integration", None):
        refused = await step(network, "rerouteFulfillment", rome,
                             tokens[who] if who else None, reason="X", toLocation="WH-MIL")
        assert refused["fulfillment"] is None, who
        assert [e["code"] for e in refused["userErrors"]] in (["FORBIDDEN"],
                                                              ["UNAUTHENTICATED"]), who

    assert await levels(network) == before_levels
    assert await order(network, number, tokens["agent"]) == before
    moved = await step(network, "rerouteFulfillment", rome, tokens["admin"], reason="X",
                       toLocation="WH-MIL")
    assert moved["userErrors"] == []


async def test_two_agents_moving_the_same_work_at_once_move_it_once(network, tokens, db_url):
    number = (await place(network, "reroute-race-01"))["number"]
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    answers: list[dict] = []

    async def move() -> None:
        answers.append(await step(network, "rerouteFulfillment", rome, tokens["agent"],
                                  reason="CUSTOMER_REQUEST", toLocation="WH-MIL"))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(move)

    assert sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers) == [
        (), ("INVALID_TRANSITION",), ("INVALID_TRANSITION",), ("INVALID_TRANSITION",)]
    got = await order(network, number, tokens["agent"])
    assert _work(got) == [("ST-ROMA", "REJECTED", "CUSTOMER_REQUEST"),
                          ("WH-MIL", "ASSIGNED", None)]
    assert (await levels(network))[("TSHIRT-BLU-M", "WH-MIL")] == (120, 2)
    assert await violations(db_url) == []
