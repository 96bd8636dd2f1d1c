"""Catalog and inventory mutations: refusals are userErrors, every change is in the ledger."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio

SET = """mutation($levels: [InventoryLevelInput!]!) { setInventory(input: {reason: "COUNT",
  levels: $levels}) { levels { sku onHand reserved safetyStock available }
  userErrors { field code message } } }"""
SKUS = """mutation($skus: [SkuInput!]!) { upsertSkus(input: {skus: $skus}) {
  skus { sku components { sku quantity } } userErrors { field code } } }"""
LOCATION = """mutation($channels: [String!]!) { upsertLocations(input: {locations: [{
  code: "WH-X", name: "X", type: WAREHOUSE, capabilities: [SHIP], channels: $channels,
  address: {line1: "Via X 1", city: "Milano", postalCode: "20100", country: "IT",
            latitude: 45.4, longitude: 9.2}}]}) { locations { code channels }
  userErrors { field code } } }"""


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


@pytest.mark.parametrize(("levels", "code", "field"), [
    ([{"sku": "NOPE", "location": "WH-MIL", "onHand": 1}], "UNKNOWN_SKU",
     ["levels", "0", "sku"]),
    ([{"sku": "TSHIRT-BLU-M", "location": "NOWHERE", "onHand": 1}], "UNKNOWN_LOCATION",
     ["levels", "0", "location"]),
    ([{"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": -1}], "INVALID_QUANTITY",
     ["levels", "0", "onHand"]),
    ([{"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 1},
      {"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 2}], "INVALID_INPUT", ["levels"]),
    ([{"sku": "TSHIRT-BLU-M", "location": "ST-ROMA", "onHand": 1}], "NEGATIVE_INVENTORY",
     ["levels", "0", "onHand"]),
])
async def test_bad_snapshot_is_refused_whole(network, tokens, levels, code, field):
    await network.data(PLACE, {"input": order_input(lines=[{"sku": "TSHIRT-BLU-M",
                                                            "quantity": 2}])})  # ST-ROMA: 2
    before = await count_rows(network_db(network), "inventory_ledger")
    good_first = [{"sku": "LAMP-ARCO", "location": "WH-MIL", "onHand": 9}, *levels]
    result = (await network.data(SET, {"levels": good_first}, token=tokens["integration"]))
    errors = result["setInventory"]["userErrors"]
    shifted = [field[0], str(int(field[1]) + 1), *field[2:]] if len(field) > 1 else field
    assert [(e["code"], e["field"]) for e in errors] == [(code, shifted)]
    assert result["setInventory"]["levels"] == []
    assert await count_rows(network_db(network), "inventory_ledger") == before


def network_db(api) -> str:
    return api.app.state.db.url


async def test_snapshot_writes_the_difference_to_the_ledger(network, tokens):
    result = await network.data(SET, {"levels": [
        {"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 100, "safetyStock": 10}]},
                                token=tokens["integration"])
    assert result["setInventory"]["levels"] == [{"sku": "TSHIRT-BLU-M", "onHand": 100,
                                                 "reserved": 0, "safetyStock": 10,
                                                 "available": 90}]
    assert await violations(network_db(network)) == []


async def test_adjustment_cannot_take_stock_that_is_promised(network, tokens):
    await network.data(PLACE, {"input": order_input(lines=[{"sku": "TSHIRT-BLU-M",
                                                            "quantity": 5}])})
    result = await network.data("""mutation { adjustInventory(input: {sku: "TSHIRT-BLU-M",
        location: "ST-ROMA", delta: -2, reason: "DAMAGED"}) { level { onHand }
        userErrors { code field } } }""", token=tokens["integration"])
    assert result["adjustInventory"] == {"level": None, "userErrors": [
        {"code": "NEGATIVE_INVENTORY", "field": ["delta"]}]}
    assert await violations(network_db(network)) == []


async def test_kits_are_validated_and_have_no_stock_of_their_own(network, tokens):
    bad = await network.data(SKUS, {"skus": [{"sku": "KIT-1", "name": "Kit", "productGroup": "x",
                                              "components": [{"sku": "GHOST", "quantity": 1}]}]},
                             token=tokens["admin"])
    assert bad["upsertSkus"]["userErrors"] == [{"field": ["skus", "0", "components", "0", "sku"],
                                                "code": "UNKNOWN_SKU"}]
    good = await network.data(SKUS, {"skus": [{"sku": "KIT-1", "name": "Kit", "productGroup": "x",
                                               "components": [{"sku": "TSHIRT-BLU-M",
                                                               "quantity": 2}]}]},
                              token=tokens["admin"])
    assert good["upsertSkus"] == {"skus": [{"sku": "KIT-1", "components": [
        {"sku": "TSHIRT-BLU-M", "quantity": 2}]}], "userErrors": []}
    stocked = await network.data(SET, {"levels": [{"sku": "KIT-1", "location": "WH-MIL",
                                                   "onHand": 3}]}, token=tokens["integration"])
    assert [e["code"] for e in stocked["setInventory"]["userErrors"]] == ["INVALID_INPUT"]
    nested = await network.data(SKUS, {"skus": [{"sku": "KIT-2", "name": "Kit", "productGroup": "x",
                                                 "components": [{"sku": "KIT-1",
                                                                 "quantity": 1}]}]},
                                token=tokens["admin"])
    assert [e["code"] for e in nested["upsertSkus"]["userErrors"]] == ["INVALID_INPUT"]
    availability = await network.data('query { availability(skus: ["KIT-1"], channel: "web") '
                                      '{ available locations { location { code } available } } }')
    # WH-MIL: (120 − 5) // 2 = 57 kits; ST-ROMA: 6 // 2 = 3
    assert availability["availability"][0]["available"] == 60


async def test_locations_sell_only_for_known_channels(network, tokens):
    bad = await network.data(LOCATION, {"channels": ["web", "marketplace:nowhere"]},
                             token=tokens["admin"])
    assert bad["upsertLocations"] == {"locations": [], "userErrors": [
        {"field": ["locations", "0", "channels", "1"], "code": "UNKNOWN_CHANNEL"}]}
    good = await network.data(LOCATION, {"channels": ["web", "marketplace:amazon"]},
                              token=tokens["admin"])
    assert good["upsertLocations"]["locations"] == [
        {"code": "WH-X", "channels": ["web", "marketplace:amazon"]}]
