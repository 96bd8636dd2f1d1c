"""Nested fields under an allowed entry point: what each caller sees of an order, a location
and the stock (domain/access.py: order_view, sees_location_levels, sees_network_internals)."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import desk, place
from tests.api.realtime import Follower, until, ws_client
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio

CUSTOMER = {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+39 06 1234567"}
QUEUE = """query($l: String!) { fulfillments(location: $l) { edges { node { order { number
  customer { email name phone } fulfillments { location { code } } notes { text } holdReason
  tags timeline { actor } } } } } }"""
LOCATIONS = "{ locations { code costPerShipment costPerKg carbonFactor dailyCapacity } }"
LEVELS = """{ availability(skus: ["TSHIRT-BLU-M"], channel: "web") { available
  locations { location { code } onHand reserved safetyStock available } } }"""


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def _queued_order(api, token: str, location: str, number: str) -> dict:
    queue = (await api.data(QUEUE, {"l": location}, token=token))["fulfillments"]["edges"]
    return next(e["node"]["order"] for e in queue if e["node"]["order"]["number"] == number)


async def test_a_store_sees_its_work_the_customers_name_and_nothing_internal(network, tokens):
    number = (await place(network, "visible-split-01", customer=CUSTOMER,
                          lines=[{"sku": "TSHIRT-BLU-M", "quantity": 118}]))["number"]
    note = await desk(network, "addOrderNote", tokens["agent"], number=number,
                      text="customer is a journalist")
    tags = await desk(network, "addOrderTags", tokens["agent"], number=number, tags=["GIFT"])
    assert note["userErrors"] == tags["userErrors"] == []
    for role, location in (("store_roma", "ST-ROMA"), ("store_mil", "WH-MIL")):
        seen = await _queued_order(network, tokens[role], location, number)
        assert seen["customer"] == {"email": None, "name": "Ada Lovelace", "phone": None}
        assert seen["fulfillments"] == [{"location": {"code": location}}]
        assert seen["notes"] == [] and seen["holdReason"] is None
        assert seen["tags"] == ["GIFT"]  # gift wrapping is the store's business
        assert {t["actor"] for t in seen["timeline"]} <= {"customer", "guest", "promessa"}
    agent = await _queued_order(network, tokens["agent"], "ST-ROMA", number)
    assert agent["customer"] == CUSTOMER
    assert len(agent["fulfillments"]) == 2
    assert agent["notes"] == [{"text": "customer is a journalist"}]


async def test_the_pickup_store_sees_the_customers_phone(network, tokens):
    number = (await place(network, "visible-pickup-1", customer=CUSTOMER, delivery={
        "method": "PICKUP", "pickupLocation": "ST-ROMA"}))["number"]
    seen = await _queued_order(network, tokens["store_roma"], "ST-ROMA", number)
    assert seen["customer"] == {"email": None, "name": "Ada Lovelace",
                                "phone": "+39 06 1234567"}


@pytest.mark.parametrize(("role", "internal"), [
    ("anonymous", False), ("ada", False), ("store_roma", False), ("agent", True),
    ("integration", True), ("admin", True)])
async def test_location_cost_models_are_for_staff(network, tokens, role, internal):
    found = {x["code"]: x for x in (await network.data(LOCATIONS, token=tokens.get(role)))[
        "locations"]}
    milano = found["WH-MIL"]
    if internal:
        assert milano["dailyCapacity"] == 5000
        assert None not in (milano["costPerShipment"], milano["costPerKg"],
                            milano["carbonFactor"])
    else:
        assert {k: v for k, v in milano.items() if k != "code"} == {
            "costPerShipment": None, "costPerKg": None, "carbonFactor": None,
            "dailyCapacity": None}


@pytest.mark.parametrize(("role", "raw_at"), [
    ("anonymous", set()), ("ada", set()), ("store_roma", {"ST-ROMA"}),
    ("store_mil", {"WH-MIL"}), ("agent", {"ST-ROMA", "WH-MIL"}),
    ("integration", {"ST-ROMA", "WH-MIL"})])
async def test_a_storefront_sees_available_stock_not_raw_levels(network, tokens, role, raw_at):
    [shirt] = (await network.data(LEVELS, token=tokens.get(role)))["availability"]
    assert shirt["available"] == 115 + 6  # WH-MIL 120 − 5 safety, ST-ROMA 6
    for x in shirt["locations"]:
        raw = (x["onHand"], x["reserved"], x["safetyStock"])
        if x["location"]["code"] in raw_at:
            assert None not in raw
        else:
            assert raw == (None, None, None)
        assert x["available"] is not None


async def test_followers_of_one_order_with_one_document_each_get_their_own_view(live, tokens):
    """Executions of an event are shared between subscribers, but only within an audience:
    the owner following with the agent's very document must not receive the agent's notes."""
    await seed_contract_network(live.api, tokens)
    number = (await place(live.api, "visible-follow-1"))["number"]
    noted = await desk(live.api, "addOrderNote", tokens["agent"], number=number, text="VIP?")
    assert noted["userErrors"] == []
    hub = live.app.state.realtime.hub
    document = """subscription($n: String) { orderEvents(number: $n, after: "0") {
      sequence order { notes { text } customer { email } } } }"""
    async with ws_client(live.ws_url, tokens["agent"]) as agent_session, \
            ws_client(live.ws_url, tokens["ada"]) as ada_session, \
            ws_client(live.ws_url, tokens["store_roma"]) as store_session, \
            Follower(agent_session, document, {"n": number}) as agent, \
            Follower(ada_session, document, {"n": number}) as ada, \
            Follower(store_session, document, {"n": number}) as store:
        await until(lambda: hub.subscribers == 3)
        seen = {"agent": await agent.take(2), "ada": await ada.take(2),
                "store": await store.take(2)}
    notes = {who: [e["order"]["notes"] for e in events] for who, events in seen.items()}
    emails = {who: {e["order"]["customer"]["email"] for e in events}
              for who, events in seen.items()}
    assert notes == {"agent": [[{"text": "VIP?"}]] * 2, "ada": [[], []], "store": [[], []]}
    assert emails == {"agent": {"ada@example.com"}, "ada": {"ada@example.com"},
                      "store": {None}}
