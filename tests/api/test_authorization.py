"""Isolation of customers (SPEC §3.6) and bad tokens. Every root field × every role is in
test_authorization_matrix.py; what each caller sees under a field in test_field_visibility.py."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import SECRET, seed_contract_network, token

pytestmark = pytest.mark.anyio

ORDER = """query($n: String!) { order(number: $n) { number customer { email } lines { sku }
  fulfillments { id } timeline { message } } }"""
ORDERS = """query($f: OrderFilter) { orders(first: 50, filter: $f) { totalCount
  edges { node { number customer { email } } } } }"""
TRACK = "query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { number } }"


@pytest.fixture
async def two_orders(api, tokens):
    await seed_contract_network(api, tokens)
    ada = (await api.data(PLACE, {"input": order_input("ada-order-1")}, token=tokens["ada"]))
    bob_input = order_input("bob-order-1", customer={"email": "bob@example.com", "name": "Bob"})
    bob = (await api.data(PLACE, {"input": bob_input}, token=tokens["bob"]))
    return ada["placeOrder"]["order"]["number"], bob["placeOrder"]["order"]["number"]


async def test_customer_reads_own_order_but_not_another_customers(api, tokens, two_orders):
    ada_number, bob_number = two_orders
    mine = await api.data(ORDER, {"n": ada_number}, token=tokens["ada"])
    assert mine["order"]["customer"]["email"] == "ada@example.com"
    theirs = await api.data(ORDER, {"n": bob_number}, token=tokens["ada"])
    assert theirs == {"order": None}  # the same answer as for an order that does not exist
    assert await api.data(ORDER, {"n": "PR-999999"}, token=tokens["ada"]) == {"order": None}


async def test_customer_order_search_is_confined_to_their_own_orders(api, tokens, two_orders):
    ada_number, bob_number = two_orders
    for flt in (None, {}, {"customerEmail": "bob@example.com"}, {"status": ["ALLOCATED"]},
                {"customerEmail": "ADA@example.com"}):
        found = (await api.data(ORDERS, {"f": flt}, token=tokens["ada"]))["orders"]
        numbers = [e["node"]["number"] for e in found["edges"]]
        assert bob_number not in numbers
        assert found["totalCount"] == len(numbers)
        assert numbers in ([ada_number], [])
    agent = (await api.data(ORDERS, {"f": None}, token=tokens["agent"]))["orders"]
    assert {e["node"]["number"] for e in agent["edges"]} == {ada_number, bob_number}


async def test_guest_tracking_needs_the_matching_email_and_says_nothing_else(api, two_orders):
    ada_number, _ = two_orders
    assert (await api.data(TRACK, {"n": ada_number, "e": "Ada@Example.com "}))["trackOrder"] == {
        "number": ada_number}
    wrong_email = await api.data(TRACK, {"n": ada_number, "e": "bob@example.com"})
    no_order = await api.data(TRACK, {"n": "PR-999999", "e": "ada@example.com"})
    assert wrong_email == no_order == {"trackOrder": None}


async def test_anonymous_callers_cannot_read_orders(api, two_orders):
    ada_number, _ = two_orders
    for query, variables in ((ORDER, {"n": ada_number}), (ORDERS, {"f": None})):
        result = await api.post(query, variables)
        assert result["data"] in (None, {"order": None})
        assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


async def test_store_associate_sees_only_orders_with_work_at_their_location(api, tokens,
                                                                            two_orders):
    ada_number, _ = two_orders  # sourced to ST-ROMA (nearest complete location)
    roma = await api.data(ORDER, {"n": ada_number}, token=tokens["store_roma"])
    assert roma["order"]["number"] == ada_number
    milano = await api.data(ORDER, {"n": ada_number}, token=tokens["store_mil"])
    assert milano == {"order": None}
    result = await api.post(ORDERS, {"f": None}, token=tokens["store_roma"])
    assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize("header", [
    "Bearer not-a-jwt", "Basic abc", "Bearer ",
    "Bearer " + token("admin").rsplit(".", 1)[0] + ".forged-signature"])
async def test_a_bad_token_is_refused_before_anything_runs(api, header):
    response = await api.client.post("/graphql", json={"query": "{ channels { code } }"},
                                     headers={"authorization": header})
    assert response.status_code == 401
    assert "Traceback" not in response.text


async def test_a_token_signed_with_another_secret_is_refused(api):
    import jwt

    forged = jwt.encode({"sub": "x", "role": "admin"}, SECRET[::-1], algorithm="HS256")
    response = await api.client.post("/graphql", json={"query": "{ channels { code } }"},
                                     headers={"authorization": f"Bearer {forged}"})
    assert response.status_code == 401
