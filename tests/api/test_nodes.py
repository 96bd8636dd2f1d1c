"""Relay `node`/`nodes`: every main type by its global id, under the rules of the direct
queries, with the same null for unknown, malformed and forbidden ids, and no N+1."""

from __future__ import annotations

import base64

import pytest

from tests.api.lifecycle import place
from tests.conftest import seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio

IDS = """query($n: String!) { order(number: $n) { id fulfillments { id location { id code } } }
  skus(first: 5) { edges { node { id sku } } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Order { number customer { email name } fulfillments { location { code } } }
  ... on Fulfillment { status location { code } }
  ... on Location { code } ... on Sku { sku } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Order { number fulfillments { id status location { code name } } }
  ... on Fulfillment { status order { number } } ... on Location { code } ... on Sku { sku } } }"""
ROLES = ("anonymous", "ada", "bob", "store_roma", "store_mil", "agent", "integration", "admin")


def gid(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@pytest.fixture
async def placed(api, tokens):
    await seed_contract_network(api, tokens)
    number = (await place(api, "node-order-0001"))["number"]  # ada's, sourced to ST-ROMA
    found = await api.data(IDS, {"n": number}, token=tokens["agent"])
    return number, found


async def test_every_main_type_is_found_by_its_global_id(api, tokens, placed):
    number, found = placed
    order = found["order"]
    [fulfillment] = order["fulfillments"]
    sku = found["skus"]["edges"][0]["node"]
    expected = {
        order["id"]: {"__typename": "Order", "number": number},
        fulfillment["id"]: {"__typename": "Fulfillment", "status": "ASSIGNED",
                            "location": {"code": "ST-ROMA"}},
        fulfillment["location"]["id"]: {"__typename": "Location", "code": "ST-ROMA"},
        sku["id"]: {"__typename": "Sku", "sku": sku["sku"]},
    }
    for node_id, fields in expected.items():
        got = (await api.data(NODE, {"id": node_id}, token=tokens["agent"]))["node"]
        assert got["id"] == node_id
        assert {k: got[k] for k in fields} == fields


async def test_node_applies_the_order_rules_of_the_direct_queries(api, tokens, placed):
    number, found = placed
    order_id = found["order"]["id"]
    fulfillment_id = found["order"]["fulfillments"][0]["id"]
    readers = {"ada", "store_roma", "agent", "integration", "admin"}
    for role in ROLES:
        direct = await api.post("query($n: String!) { order(number: $n) { number } }",
                                 {"n": number}, token=tokens.get(role))
        by_id = await api.data(NODE, {"id": order_id}, token=tokens.get(role))
        by_fulfillment = await api.data(NODE, {"id": fulfillment_id}, token=tokens.get(role))
        if role in readers:
            assert direct["data"]["order"]["number"] == number
            assert by_id["node"]["number"] == number, role
            assert by_fulfillment["node"]["status"] == "ASSIGNED", role
        else:
            assert (direct.get("data") or {}).get("order") is None
            assert by_id == by_fulfillment == {"node": None}, role


async def test_unknown_malformed_and_forbidden_ids_give_the_same_null(api, tokens, placed):
    _, found = placed
    order_id = found["order"]["id"]
    answers = [await api.data(NODE, {"id": i}, token=tokens["bob"]) for i in (
        order_id, gid("Order", "00000000-0000-0000-0000-000000000000"), "not-an-id",
        gid("Nope", "x"), gid("Order", "x" * 65), gid("Location", "NOWHERE"),
        gid("Incoming", "x"))]
    assert answers == [{"node": None}] * len(answers)


async def test_a_store_associate_sees_only_their_work_and_the_customers_name(api, tokens):
    await seed_contract_network(api, tokens)
    number = (await place(api, "node-split-0001",
                          lines=[{"sku": "TSHIRT-BLU-M", "quantity": 118}]))["number"]
    full = (await api.data(IDS, {"n": number}, token=tokens["agent"]))["order"]
    assert {f["location"]["code"] for f in full["fulfillments"]} == {"ST-ROMA", "WH-MIL"}
    for role, mine in (("store_roma", "ST-ROMA"), ("store_mil", "WH-MIL")):
        seen = (await api.data(NODE, {"id": full["id"]}, token=tokens[role]))["node"]
        assert seen["customer"] == {"email": None, "name": "Ada Lovelace"}
        assert seen["fulfillments"] == [{"location": {"code": mine}}]
        other = next(f["id"] for f in full["fulfillments"] if f["location"]["code"] != mine)
        assert (await api.data(NODE, {"id": other}, token=tokens[role])) == {"node": None}
    owner = (await api.data(NODE, {"id": full["id"]}, token=tokens["ada"]))["node"]
    assert owner["customer"]["email"] == "ada@example.com"
    assert len(owner["fulfillments"]) == 2


async def test_nodes_answers_in_the_order_asked_and_refuses_more_than_100(api, tokens, placed):
    _, found = placed
    order_id = found["order"]["id"]
    location_id = found["order"]["fulfillments"][0]["location"]["id"]
    got = (await api.data(NODES, {"ids": [location_id, "bad", order_id, location_id]},
                          token=tokens["ada"]))["nodes"]
    assert [x and x["__typename"] for x in got] == ["Location", None, "Order", "Location"]
    refused = await api.post(NODES, {"ids": [order_id] * 101}, token=tokens["agent"])
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["INVALID_INPUT"]


async def test_nodes_costs_the_same_for_one_and_for_many_objects(api, tokens, placed):
    _, found = placed
    first = found["order"]
    numbers = [(await place(api, f"node-count-{i:04d}"))["number"] for i in range(4)]
    more = [(await api.data(IDS, {"n": n}, token=tokens["agent"]))["order"] for n in numbers]
    skus = [e["node"]["id"] for e in found["skus"]["edges"]]

    def ids(orders_: list[dict]) -> list[str]:
        return [x for o in orders_ for x in (o["id"], o["fulfillments"][0]["id"],
                                             o["fulfillments"][0]["location"]["id"])]

    async def count(node_ids: list[str]) -> int:
        seen = statement_counter(api.app.state.db)
        result = await api.data(NODES, {"ids": node_ids}, token=tokens["agent"])
        assert None not in result["nodes"]
        return len([s for s in seen if s.strip().upper() != "BEGIN"])

    assert await count(ids([first]) + skus[:1]) == await count(ids([first, *more]) + skus)
