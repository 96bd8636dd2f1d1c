"""What the fuzzer (test_fuzz.py) found, one regression test each."""

from __future__ import annotations

import base64

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network
from tests.invariants import count_rows

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("field", ["placedFrom", "placedTo"])
async def test_an_order_search_from_a_time_without_zone_is_invalid_input(api, tokens, field):
    await seed_contract_network(api, tokens)
    result = await api.post("""query($f: OrderFilter) { orders(filter: $f) { totalCount } }""",
                            {"f": {field: "2030-01-02T09:30:00"}}, token=tokens["agent"])
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["message"] == f"{field} needs a time zone"


NUL = "ada\x00"


async def test_text_with_a_nul_character_is_invalid_input_not_a_crash(api, tokens):
    await seed_contract_network(api, tokens)
    for query, variables in (
            ("query($n: String!) { order(number: $n) { number } }", {"n": NUL}),
            ("query($n: String!) { trackOrder(number: $n, email: $n) { number } }", {"n": NUL}),
            ("query($n: [String!]!) { availability(skus: $n, channel: \"web\") { sku } }",
             {"n": ["TSHIRT-BLU-M", NUL]})):
        result = await api.post(query, variables, token=tokens["agent"])
        assert not any((result["data"] or {}).values()), result
        assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_INPUT"]


async def test_a_mutation_with_a_nul_character_is_refused_and_stores_nothing(api, tokens,
                                                                            db_url):
    await seed_contract_network(api, tokens)
    placed = await api.data(PLACE, {"input": order_input("nul-key-0001", customer={
        "email": "ada@example.com", "name": NUL})}, token=tokens["ada"])
    assert placed["placeOrder"] == {"order": None, "userErrors": [{
        # the path inside `input`, like every other userErrors.field (issue 16 #6)
        "field": ["customer", "name"], "code": "INVALID_INPUT",
        "message": "text must not contain a NUL character"}]}
    assert (await count_rows(db_url, "orders"))["orders"] == 0


async def test_ids_and_cursors_hiding_a_nul_character_are_unknown_or_malformed(api, tokens):
    await seed_contract_network(api, tokens)
    hidden = base64.b64encode(b"Order:\x00").decode()
    assert await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": hidden},
                          token=tokens["agent"]) == {"node": None}
    step = await api.data("""mutation($id: ID!) { acceptFulfillment(input: {fulfillmentId: $id})
        { userErrors { code } } }""", {"id": base64.b64encode(b"Fulfillment:\x00").decode()},
                          token=tokens["admin"])
    assert step["acceptFulfillment"]["userErrors"] == [{"code": "NOT_FOUND"}]
    cursor = base64.urlsafe_b64encode(b"2030-01-01T00:00:00+00:00|\x00").decode()
    result = await api.post("query($a: String) { orders(after: $a) { totalCount } }",
                            {"a": cursor}, token=tokens["agent"])
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_INPUT"]


async def test_a_huge_amount_is_invalid_input_not_a_crash(api, tokens):
    result = await api.data("""mutation { upsertSkus(input: {skus: [{sku: "HUGE-1", name: "Huge",
        productGroup: "misc", prices: [{amount: "1e9999", currency: "EUR"}]}]})
        { skus { sku } userErrors { code field } } }""", token=tokens["admin"])
    assert result["upsertSkus"] == {"skus": [], "userErrors": [
        {"code": "INVALID_INPUT", "field": ["skus", "0", "prices", "0", "amount"]}]}
