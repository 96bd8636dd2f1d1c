"""rejectFulfillment re-sources, end to end through the API, on both engines.

A store says no → the next best location gets ASSIGNED work in the same transaction (the order
keeps going, it is not held), the reservation moves in the ledger, the timeline says why, and
the rejecting location is never asked again. Units nobody can supply are released and hold the
order for an agent; units incoming stock can supply are backordered against that receipt.
"""

from __future__ import annotations

import json

import pytest

from tests.api.lifecycle import (
    EXPECT,
    RECEIVE,
    fulfillment_ids,
    ledger,
    levels,
    order,
    place,
    rows,
    step,
)
from tests.conftest import load_examples, seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio

QUEUE = """query($l: String!) { fulfillments(location: $l, status: [ASSIGNED]) {
  totalCount edges { node { id order { number } lines { sku quantity } } } } }"""


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


def _ids_by_status(got: dict) -> list[tuple[str, str, str | None]]:
    return [(f["location"]["code"], f["status"], f["reason"]) for f in got["fulfillments"]]


async def test_a_store_rejects_and_the_warehouse_gets_the_work(network, tokens, db_url):
    number = (await place(network, "reject-move-01"))["number"]  # 2 T-shirts from Rome
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]

    rejected = await step(network, "rejectFulfillment", rome, tokens["store_roma"],
                          reason="ITEM_NOT_FOUND")

    assert rejected["userErrors"] == []
    assert rejected["fulfillment"]["status"] == "REJECTED"
    assert rejected["order"] == {"number": number, "status": "ALLOCATED"}  # not ON_HOLD
    got = await order(network, number, tokens["agent"])
    assert got["holdReason"] is None
    assert [ln["status"] for ln in got["lines"]] == ["ALLOCATED"]
    assert _ids_by_status(got) == [("ST-ROMA", "REJECTED", "ITEM_NOT_FOUND"),
                                   ("WH-MIL", "ASSIGNED", None)]
    assert [t["type"] for t in got["timeline"]][-2:] == ["FULFILLMENT_REJECTED",
                                                         "ORDER_RESOURCED"]
    assert [t["message"] for t in got["timeline"]][-2:] == [
        "ST-ROMA rejected its fulfillment (2 units): ITEM_NOT_FOUND",
        "2 units re-sourced to WH-MIL after ST-ROMA rejected them"]
    # the warehouse's queue has it
    queue = (await network.data(QUEUE, {"l": "WH-MIL"}, token=tokens["store_mil"]))[
        "fulfillments"]
    assert [(e["node"]["order"]["number"], e["node"]["lines"]) for e in queue["edges"]] == [
        (number, [{"sku": "TSHIRT-BLU-M", "quantity": 2}])]
    # stock conserved: the reservation moved, with one ledger row each way
    assert (await levels(network))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 0)
    assert (await levels(network))[("TSHIRT-BLU-M", "WH-MIL")] == (120, 2)
    assert (await ledger(db_url, "TSHIRT-BLU-M", "ST-ROMA"))[-1] == (0, -2, "REJECTED", number)
    assert (await ledger(db_url, "TSHIRT-BLU-M", "WH-MIL"))[-1] == (0, 2, "RESOURCED", number)
    assert await violations(db_url) == []
    kinds = await rows(db_url, "SELECT kind FROM sourcing_decisions d JOIN orders o ON "
                               "o.id = d.order_id WHERE o.number = :n ORDER BY d.sequence",
                       n=number)
    assert kinds == [("PLACEMENT",), ("RESOURCING",)]
    events = await rows(db_url, "SELECT stream, type FROM outbox WHERE stream IN "
                                "('order:' || :n, 'location:WH-MIL', 'location:ST-ROMA') "
                                "ORDER BY stream, sequence", n=number)
    assert events == [("location:ST-ROMA", "FULFILLMENT_CREATED"),
                      ("location:ST-ROMA", "FULFILLMENT_REJECTED"),
                      ("location:WH-MIL", "FULFILLMENT_CREATED"),
                      (f"order:{number}", "ORDER_PLACED"),
                      (f"order:{number}", "FULFILLMENT_REJECTED"),
                      (f"order:{number}", "ORDER_RESOURCED")]

    # the warehouse works it through as usual
    milan = (await fulfillment_ids(network, number, tokens["agent"]))["WH-MIL"]
    accepted = await step(network, "acceptFulfillment", milan, tokens["store_mil"])
    assert accepted["order"]["status"] == "IN_FULFILLMENT"

    # …and when it rejects too, Rome is never asked again (it still has 6): the agent decides
    again = await step(network, "rejectFulfillment", milan, tokens["store_mil"],
                       reason="DAMAGED")
    assert again["order"]["status"] == "ON_HOLD"
    got = await order(network, number, tokens["agent"])
    assert got["holdReason"] == ("WH-MIL rejected: DAMAGED; no other location can supply "
                                 "2 × TSHIRT-BLU-M")
    assert [ln["status"] for ln in got["lines"]] == ["UNALLOCATED"]
    assert [t["type"] for t in got["timeline"]][-2:] == ["FULFILLMENT_REJECTED", "ORDER_HELD"]
    assert (await levels(network))[("TSHIRT-BLU-M", "WH-MIL")] == (120, 0)
    assert (await levels(network))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 0)
    assert await violations(db_url) == []


async def test_with_no_stock_anywhere_else_the_units_are_released_and_the_order_held(
        network, tokens, db_url):
    number = (await place(network, "reject-hold-01",
                          lines=[{"sku": "LAMP-ARCO", "quantity": 1}]))["number"]
    milan = (await fulfillment_ids(network, number, tokens["agent"]))["WH-MIL"]

    rejected = await step(network, "rejectFulfillment", milan, tokens["store_mil"],
                          reason="DAMAGED")

    assert rejected["userErrors"] == []
    assert rejected["order"] == {"number": number, "status": "ON_HOLD"}
    got = await order(network, number, tokens["agent"])
    assert got["holdReason"] == ("WH-MIL rejected: DAMAGED; no other location can supply "
                                 "1 × LAMP-ARCO")
    assert [(ln["status"], ln["backordered"]) for ln in got["lines"]] == [("UNALLOCATED", 0)]
    assert _ids_by_status(got) == [("WH-MIL", "REJECTED", "DAMAGED")]
    assert (await levels(network))[("LAMP-ARCO", "WH-MIL")] == (1, 0)
    assert (await ledger(db_url, "LAMP-ARCO", "WH-MIL"))[-1] == (0, -1, "REJECTED", number)
    assert await violations(db_url) == []


async def test_units_only_incoming_stock_can_supply_are_backordered_against_it(
        network, tokens, db_url):
    # a second warehouse with a lamp on its way, none on the shelf
    turin = json.loads(json.dumps(load_examples()["UpsertLocations"]["input"]["locations"][0]))
    turin.update(code="WH-TO", name="Torino warehouse")
    added = await network.data("""mutation($input: UpsertLocationsInput!) {
        upsertLocations(input: $input) { userErrors { code message } } }""",
                               {"input": {"locations": [turin]}}, token=tokens["admin"])
    assert added["upsertLocations"]["userErrors"] == []
    receipt = (await network.data(EXPECT, {"input": {
        "sku": "LAMP-ARCO", "location": "WH-TO", "quantity": 2,
        "expectedAt": "2030-01-15T09:00:00+01:00"}}, token=tokens["integration"]))[
        "expectIncoming"]
    number = (await place(network, "reject-back-01",
                          lines=[{"sku": "LAMP-ARCO", "quantity": 1}]))["number"]
    milan = (await fulfillment_ids(network, number, tokens["agent"]))["WH-MIL"]

    rejected = await step(network, "rejectFulfillment", milan, tokens["store_mil"],
                          reason="DAMAGED")

    assert rejected["order"] == {"number": number, "status": "BACKORDERED"}
    got = await order(network, number, tokens["agent"])
    assert got["holdReason"] is None
    assert [(ln["status"], ln["backordered"]) for ln in got["lines"]] == [("BACKORDERED", 1)]
    assert [t["type"] for t in got["timeline"]][-2:] == ["FULFILLMENT_REJECTED", "BACKORDERED"]
    assert (await levels(network))[("LAMP-ARCO", "WH-MIL")] == (1, 0)
    assert await violations(db_url) == []

    # the receipt arrives: the waiting lamp gets its work at Turin
    received = (await network.data(RECEIVE, {"input": {
        "incomingId": receipt["incoming"]["id"]}}, token=tokens["integration"]))[
        "receiveIncoming"]
    assert received["allocations"] == [{"orderNumber": number, "quantity": 1}]
    got = await order(network, number, tokens["agent"])
    assert got["status"] == "ALLOCATED"
    assert _ids_by_status(got)[-1] == ("WH-TO", "ASSIGNED", None)
    assert await violations(db_url) == []


async def test_a_store_associate_cannot_reject_another_location_s_work(network, tokens,
                                                                      db_url):
    number = (await place(network, "reject-auth-01"))["number"]
    rome = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    before = await levels(network)

    for token in (tokens["store_mil"], tokens["agent"], None):
        refused = await step(network, "rejectFulfillment", rome, token, reason="DAMAGED")
        assert refused["fulfillment"] is None
        assert [e["code"] for e in refused["userErrors"]] in (["FORBIDDEN"],
                                                              ["UNAUTHENTICATED"])

    assert await levels(network) == before
    assert (await order(network, number, tokens["agent"]))["status"] == "ALLOCATED"
