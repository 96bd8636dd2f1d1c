"""placeOrder: validation, pricing, sourcing, backorders, idempotency — through the API."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import seed_contract_network, token

pytestmark = pytest.mark.anyio

PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { number status total { amount currency } subtotal { amount } shipping { amount }
            tax { amount } lines { sku quantity status backordered }
            fulfillments { location { code } lines { sku quantity } } }
    userErrors { field message code }
  }
}"""
# raw levels (onHand, reserved) are for staff: a storefront sees `available` only
STOCK_READER = token("integration")
LEVELS = """
query { availability(skus: ["TSHIRT-BLU-M", "LAMP-ARCO"], channel: "web") {
  sku available locations { location { code } onHand reserved available } } }"""


def order_input(key: str = "key-00000001", **changes) -> dict:
    base = {"idempotencyKey": key, "channel": "web", "currency": "EUR",
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}],
            "delivery": {"method": "SHIP", "serviceLevel": "STANDARD",
                         "address": {"line1": "Via Nazionale 10", "city": "Roma",
                                     "postalCode": "00184", "country": "IT",
                                     "latitude": 41.90, "longitude": 12.49}}}
    base.update(changes)
    return base


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def place(api, variables, token=None):
    return (await api.data(PLACE, {"input": variables}, token=token))["placeOrder"]


async def levels(api) -> dict:
    rows = (await api.data(LEVELS, token=STOCK_READER))["availability"]
    return {(r["sku"], x["location"]["code"]): (x["onHand"], x["reserved"])
            for r in rows for x in r["locations"]}


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "UNKNOWN_SKU", ["lines", "0", "sku"]),
    ({"lines": [{"sku": "TSHIRT-BLU-M", "quantity": 0}]}, "INVALID_QUANTITY",
     ["lines", "0", "quantity"]),
    ({"lines": [{"sku": "TSHIRT-BLU-M", "quantity": 100000}]}, "INVALID_QUANTITY",
     ["lines", "0", "quantity"]),
    ({"lines": []}, "INVALID_INPUT", ["lines"]),
    ({"lines": [{"sku": f"S{i}", "quantity": 1} for i in range(101)]}, "CART_TOO_LARGE",
     ["lines"]),
    ({"currency": "USD"}, "UNSUPPORTED_CURRENCY", ["currency"]),
    ({"channel": "telepathy"}, "UNKNOWN_CHANNEL", ["channel"]),
    ({"delivery": {"method": "SHIP"}}, "INVALID_ADDRESS", ["delivery", "address"]),
    ({"delivery": {"method": "SHIP", "address": {"line1": "x", "city": "Roma",
                                                 "postalCode": "ABC", "country": "IT"}}},
     "INVALID_ADDRESS", ["delivery", "address", "postalCode"]),
    ({"delivery": {"method": "PICKUP", "pickupLocation": "WH-MIL"}},
     "INVALID_PICKUP_LOCATION", ["delivery", "pickupLocation"]),
    ({"customer": {"email": "not-an-email"}}, "INVALID_INPUT", ["customer", "email"]),
    ({"lines": [{"sku": "TSHIRT-BLU-M", "quantity": 500}]}, "INSUFFICIENT_STOCK",
     ["lines", "0"]),
])
async def test_refused_order_says_why_and_changes_nothing(network, change, code, field):
    before = await levels(network)
    result = await place(network, order_input(**change))
    assert result["order"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [(code, field)]
    assert await levels(network) == before
    orders = await network.data("query { orders(first: 5) { totalCount } }",
                                token=_agent())
    assert orders["orders"]["totalCount"] == 0


def _agent():
    from tests.conftest import token

    return token("agent", email="agent@example.com")


async def test_order_is_priced_from_the_catalog_and_reserves_stock(network):
    result = await place(network, order_input(lines=[{"sku": "TSHIRT-BLU-M", "quantity": 3}]))
    assert result["userErrors"] == []
    order = result["order"]
    # 3 × 19.90 = 59.70 ≥ 49.00: standard shipping is free; 22 % VAT included in prices
    assert order["subtotal"] == {"amount": "59.70"}
    assert order["shipping"] == {"amount": "0.00"}
    assert order["tax"] == {"amount": "10.77"}
    assert order["total"] == {"amount": "59.70", "currency": "EUR"}
    assert order["number"].startswith("PR-") and len(order["number"]) == 9
    # ST-ROMA (6 units, 1.4 km away) can ship everything: nearest complete location wins
    assert order["fulfillments"] == [{"location": {"code": "ST-ROMA"},
                                      "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 3}]}]
    assert (await levels(network))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 3)


async def test_order_splits_over_the_fewest_locations_when_no_one_has_everything(network):
    result = await place(network, order_input(lines=[{"sku": "TSHIRT-BLU-M", "quantity": 2},
                                                     {"sku": "LAMP-ARCO", "quantity": 1}]))
    assert result["userErrors"] == []
    # WH-MIL has both (the lamp only there): one shipment beats a nearer store
    assert [f["location"]["code"] for f in result["order"]["fulfillments"]] == ["WH-MIL"]

    second = await place(network, order_input("key-00000002", lines=[
        {"sku": "TSHIRT-BLU-M", "quantity": 119}]))  # 113 left at WH-MIL + 6 at ST-ROMA
    assert second["userErrors"] == []
    shipped = {f["location"]["code"]: f["lines"][0]["quantity"]
               for f in second["order"]["fulfillments"]}
    assert shipped == {"WH-MIL": 113, "ST-ROMA": 6}


async def test_backorderable_sku_is_backordered_against_incoming_stock(network, tokens):
    await network.data("""mutation { expectIncoming(input: {sku: "LAMP-ARCO", location: "WH-MIL",
        quantity: 3, expectedAt: "2030-02-01T09:00:00+01:00"}) { userErrors { code } } }""",
                       token=tokens["integration"])
    result = await place(network, order_input(lines=[{"sku": "LAMP-ARCO", "quantity": 4}]))
    assert result["userErrors"] == []
    order = result["order"]
    # the lamp on hand is allocated; the other three wait for the receipt
    assert order["status"] == "PARTIALLY_ALLOCATED"
    assert order["lines"] == [{"sku": "LAMP-ARCO", "quantity": 4,
                               "status": "PARTIALLY_ALLOCATED", "backordered": 3}]
    assert order["fulfillments"] == [{"location": {"code": "WH-MIL"},
                                      "lines": [{"sku": "LAMP-ARCO", "quantity": 1}]}]
    # nothing on hand, the receipt fully promised: the next lamp is refused
    refused = await place(network, order_input("key-00000002", lines=[
        {"sku": "LAMP-ARCO", "quantity": 1}]))
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"]
    await network.data("""mutation { expectIncoming(input: {sku: "LAMP-ARCO", location: "WH-MIL",
        quantity: 5, expectedAt: "2030-03-01T09:00:00+01:00"}) { userErrors { code } } }""",
                       token=tokens["integration"])
    waiting = await place(network, order_input("key-00000003", lines=[
        {"sku": "LAMP-ARCO", "quantity": 2}]))
    assert waiting["order"]["status"] == "BACKORDERED"
    assert waiting["order"]["lines"][0]["status"] == "BACKORDERED"


async def test_same_key_same_input_returns_the_same_order(network):
    first = await place(network, order_input())
    again = await place(network, order_input())
    assert first == again and first["userErrors"] == []
    assert (await levels(network))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 2)


async def test_same_key_different_input_is_refused(network):
    await place(network, order_input())
    changed = order_input(lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1}])
    result = await place(network, changed)
    assert result["order"] is None
    assert [e["code"] for e in result["userErrors"]] == ["IDEMPOTENCY_KEY_MISMATCH"]


async def test_customer_orders_only_for_their_own_email(network, tokens):
    mine = await place(network, order_input(), token=tokens["ada"])
    assert mine["userErrors"] == []
    theirs = await place(network, order_input("key-00000002"), token=tokens["bob"])
    assert [e["code"] for e in theirs["userErrors"]] == ["FORBIDDEN"]


async def test_agent_order_on_behalf_is_recorded_as_such(network, tokens):
    result = await place(network, order_input(channel="call_center"), token=tokens["agent"])
    assert result["userErrors"] == []
    number = result["order"]["number"]
    got = await network.data('query($n: String!) { order(number: $n) { placedBy timeline { '
                             'message actor } } }', {"n": number}, token=tokens["agent"])
    first = got["order"]["timeline"][0]
    assert got["order"]["placedBy"] == "agent:agent@example.com"
    assert first["actor"] == "agent:agent@example.com"
    assert "on behalf of ada@example.com" in first["message"]


async def test_the_idempotency_key_is_not_spent_by_a_refused_order(network, tokens):
    too_many = order_input(lines=[{"sku": "LAMP-ARCO", "quantity": 2}])
    assert [e["code"] for e in (await place(network, too_many))["userErrors"]] == [
        "INSUFFICIENT_STOCK"]
    await network.data("""mutation { setInventory(input: {reason: "RECEIPT", levels: [
        {sku: "LAMP-ARCO", location: "WH-MIL", onHand: 5}]}) { userErrors { code } } }""",
                       token=tokens["integration"])
    retried = await place(network, copy.deepcopy(too_many))
    assert retried["userErrors"] == [] and retried["order"]["status"] == "ALLOCATED"
