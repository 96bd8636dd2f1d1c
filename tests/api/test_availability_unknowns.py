"""A typo is not "sold out" (issue 16 #2): an unknown channel is an error with its code, and
an unknown SKU is named as unknown instead of answering a silent zero; deliveryPromise refuses
a cart with one, naming it."""

from __future__ import annotations

import pytest

from tests.api.test_delivery_promise import PROMISE, cart
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio

AVAILABILITY = """query($skus: [String!]!, $channel: String!) {
  availability(skus: $skus, channel: $channel) { sku available known } }"""


async def test_an_unknown_channel_is_an_error_not_zero_stock(api, tokens):
    await seed_contract_network(api, tokens)

    result = await api.post(AVAILABILITY, {"skus": ["TSHIRT-BLU-M"], "channel": "wbe"})

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "UNKNOWN_CHANNEL"
    assert "wbe" in error["message"]


async def test_an_unknown_sku_is_named_unknown_beside_the_known_ones(api, tokens):
    await seed_contract_network(api, tokens)

    rows = (await api.data(AVAILABILITY, {"skus": ["TSHIRT-BLU-M", "TSHIRT-BLU-MM"],
                                          "channel": "web"}))["availability"]

    by_sku = {r["sku"]: r for r in rows}
    assert by_sku["TSHIRT-BLU-M"]["known"] is True
    assert by_sku["TSHIRT-BLU-M"]["available"] > 0
    assert by_sku["TSHIRT-BLU-MM"] == {"sku": "TSHIRT-BLU-MM", "available": 0, "known": False}


async def test_a_known_channel_with_no_locations_is_not_an_error(api):
    rows = (await api.data(AVAILABILITY, {"skus": ["NOPE"], "channel": "web"}))["availability"]

    assert rows == [{"sku": "NOPE", "available": 0, "known": False}]


async def test_a_promise_for_a_cart_with_an_unknown_sku_is_refused_naming_it(api, tokens):
    # deliveryPromise cannot price or source a line it does not know: no options for the rest
    # of the cart as if the typo were not there, and no silent "unavailable"
    await seed_contract_network(api, tokens)

    result = await api.post(PROMISE, cart(("TSHIRT-BLU-M", 1), ("TSHIRT-BLU-MM", 1)))

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "UNKNOWN_SKU"
    assert error["message"] == "unknown SKU 'TSHIRT-BLU-MM'"
