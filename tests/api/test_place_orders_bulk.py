"""placeOrders: a feed of orders from an integration in one request, each placed or refused
on its own, exactly once per idempotency key — and placeOrder by an integration.

Every test taking `api` runs on SQLite and on PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from graphql import GraphQLError, OperationDefinitionNode, get_operation_ast, parse, print_ast

from api.app import create_app
from api.auth import issue_token
from api.limits import Limits, measure
from api.schema.root import build_schema
from tests.api.test_place_order import PLACE, levels, order_input
from tests.conftest import (
    ROOT,
    SECRET,
    Api,
    load_examples,
    load_operations,
    make_settings,
    seed_contract_network,
    statement_counter,
)
from tests.invariants import count_rows

pytestmark = pytest.mark.anyio
# the contract's document (../shared/contract-next/integration.graphql), sent unchanged
PLACE_ORDERS = """mutation PlaceOrders($input: PlaceOrdersInput!) {
  placeOrders(input: $input) {
    results {
      idempotencyKey
      order { number status }
      userErrors { field message code }
    }
  }
}"""
BATCH_REFUSAL = """mutation($input: PlaceOrdersInput!) { placeOrders(input: $input) {
  results { order { number } } userErrors { field code } } }"""
NEXT = ROOT.parent / "shared" / "contract-next"
ERP = issue_token(role="integration", subject="erp-sap", secret=SECRET)
STOCK = """mutation { setInventory(input: {reason: "RECEIPT", levels: [
  {sku: "TSHIRT-BLU-M", location: "WH-MIL", onHand: 1000}]}) { userErrors { code } } }"""
ONE_SHIRT = [{"sku": "TSHIRT-BLU-M", "quantity": 1}]
# one refused order in every twenty of the feed: what is wrong with it, and what it is told
REFUSALS = [
    ({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, "UNKNOWN_SKU", ["lines", "0", "sku"]),
    ({"lines": [{"sku": "TSHIRT-BLU-M", "quantity": 0}]}, "INVALID_QUANTITY",
     ["lines", "0", "quantity"]),
    ({"lines": [{"sku": "TSHIRT-BLU-M", "quantity": -3}]}, "INVALID_QUANTITY",
     ["lines", "0", "quantity"]),
    ({"currency": "USD"}, "UNSUPPORTED_CURRENCY", ["currency"]),
    ({"currency": "€uro!"}, "UNSUPPORTED_CURRENCY", ["currency"]),
    ({"channel": "telepathy"}, "UNKNOWN_CHANNEL", ["channel"]),
    ({"delivery": {"method": "SHIP"}}, "INVALID_ADDRESS", ["delivery", "address"]),
    ({"customer": {"email": "not-an-email"}}, "INVALID_INPUT", ["customer", "email"]),
    ({"lines": []}, "INVALID_INPUT", ["lines"]),
    ({"lines": [{"sku": "LAMP-ARCO", "quantity": 50}]}, "INSUFFICIENT_STOCK", ["lines", "0"]),
]
REFUSED_AT = [20 * i + 13 for i in range(len(REFUSALS))]


@pytest.fixture
async def shop(api, tokens):
    """The contract's network, with shirts enough at WH-MIL for a feed of a few hundred."""
    await seed_contract_network(api, tokens)
    stocked = await api.data(STOCK, token=tokens["integration"])
    assert stocked["setInventory"]["userErrors"] == []
    return api


def feed(size: int) -> list[dict]:
    """`size` marketplace orders of one shirt each, REFUSALS spread among them."""
    orders = [order_input(f"feed-order-{i:05}", lines=ONE_SHIRT,
                          customer={"email": f"buyer{i}@marketplace.example"})
              for i in range(size)]
    for at, (change, _code, _field) in zip(REFUSED_AT, REFUSALS, strict=True):
        orders[at].update(change)
    return orders


async def send(api: Api, orders: list[dict], token: str = ERP) -> dict:
    result = await api.post(PLACE_ORDERS, {"input": {"orders": orders}}, token=token)
    assert "errors" not in result, result
    return result


async def results_of(api: Api, orders: list[dict], token: str = ERP) -> list[dict]:
    return (await send(api, orders, token))["data"]["placeOrders"]["results"]


def refusals(results: list[dict]) -> dict[int, list[tuple[str, list[str] | None]]]:
    return {i: [(e["code"], e["field"]) for e in r["userErrors"]]
            for i, r in enumerate(results) if r["userErrors"]}


async def reserved(api: Api, sku: str) -> int:
    return sum(held for (s, _loc), (_on_hand, held) in (await levels(api)).items() if s == sku)


async def test_a_feed_of_200_places_190_refuses_10_and_sent_again_places_nothing_new(
        shop, db_url):
    orders = feed(200)
    before = await count_rows(db_url, "orders", "idempotency_keys")

    first = await send(shop, orders)
    results = first["data"]["placeOrders"]["results"]

    assert [r["idempotencyKey"] for r in results] == [o["idempotencyKey"] for o in orders]
    assert refusals(results) == {at: [(code, field)] for at, (_change, code, field)
                                 in zip(REFUSED_AT, REFUSALS, strict=True)}
    assert all(results[at]["order"] is None for at in REFUSED_AT)
    placed = [r["order"] for r in results if not r["userErrors"]]
    assert len(placed) == 190 and {o["status"] for o in placed} == {"ALLOCATED"}
    assert len({o["number"] for o in placed}) == 190
    after = await count_rows(db_url, "orders", "idempotency_keys")
    assert after == {"orders": before["orders"] + 190,
                     "idempotency_keys": before["idempotency_keys"] + 190}
    assert await reserved(shop, "TSHIRT-BLU-M") == 190
    assert await reserved(shop, "LAMP-ARCO") == 0
    # each order is priced as one placeOrder answer is: results, order and userErrors
    assert first["extensions"]["cost"]["requested"] == 1 + 200 * 3

    again = await send(shop, orders)

    assert again["data"] == first["data"]
    assert await count_rows(db_url, "orders", "idempotency_keys") == after
    assert await reserved(shop, "TSHIRT-BLU-M") == 190


async def test_a_key_sent_twice_in_one_batch_answers_the_same_order_or_a_mismatch(
        shop, db_url):
    same = order_input("twice-in-a-batch", lines=ONE_SHIRT)
    other = order_input("once-in-a-batch", lines=ONE_SHIRT)
    changed = order_input("twice-in-a-batch", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 3}])

    first, repeated, second, mismatched = await results_of(shop, [same, same, other, changed])

    assert first["userErrors"] == [] and repeated == first
    assert second["userErrors"] == []
    assert second["order"]["number"] != first["order"]["number"]
    assert mismatched["order"] is None
    assert refusals([mismatched]) == {0: [("IDEMPOTENCY_KEY_MISMATCH", ["idempotencyKey"])]}
    assert (await count_rows(db_url, "orders"))["orders"] == 2
    assert await reserved(shop, "TSHIRT-BLU-M") == 2


async def test_orders_are_served_in_the_order_sent_and_a_refusal_undoes_no_other(shop):
    lamp = [{"sku": "LAMP-ARCO", "quantity": 1}]  # one on hand at WH-MIL, none incoming
    batch = [order_input("lamp-sent-first", lines=lamp),
             order_input("lamp-sent-second", lines=lamp),
             order_input("shirt-sent-third", lines=ONE_SHIRT)]

    results = await results_of(shop, batch)

    assert refusals(results) == {1: [("INSUFFICIENT_STOCK", ["lines", "0"])]}
    assert [r["order"] and r["order"]["status"] for r in results] == [
        "ALLOCATED", None, "ALLOCATED"]
    assert await reserved(shop, "LAMP-ARCO") == 1
    assert await reserved(shop, "TSHIRT-BLU-M") == 1


async def test_an_order_failing_unexpectedly_is_answered_masked_and_the_others_still_are(
        shop, monkeypatch, caplog):
    checkout = shop.app.state.deps.app.checkout
    place_for_real = checkout.place_order

    async def with_a_bug_in_one_order(command, **kw):
        if command.idempotency_key == "breaks-on-a-bug":
            raise RuntimeError("a bug that only this order meets")
        return await place_for_real(command, **kw)

    monkeypatch.setattr(checkout, "place_order", with_a_bug_in_one_order)
    results = await results_of(shop, [order_input(key, lines=ONE_SHIRT) for key in (
        "before-the-bug", "breaks-on-a-bug", "after-the-bug")])

    assert [r["order"] is not None for r in results] == [True, False, True]
    [error] = results[1]["userErrors"]
    assert (error["code"], error["field"]) == ("INTERNAL", None)
    assert error["message"].startswith("Unexpected error (request ")
    assert "a bug that only this order meets" in caplog.text  # logged whole, never answered
    assert await reserved(shop, "TSHIRT-BLU-M") == 2


async def test_answering_a_batch_reads_nothing_per_order_beyond_placing_it(shop):
    answer = """mutation($input: PlaceOrdersInput!) { placeOrders(input: $input) { results {
      order { number lines { sku quantity } fulfillments { location { code name } } } } } }"""

    async def statements(keys: list[str]) -> int:
        seen = statement_counter(shop.app.state.db)
        seen.clear()
        orders = [order_input(key, lines=ONE_SHIRT) for key in keys]
        results = (await shop.data(answer, {"input": {"orders": orders}}, token=ERP))[
            "placeOrders"]["results"]
        assert [[f["location"]["code"] for f in r["order"]["fulfillments"]]
                for r in results] == [["ST-ROMA"]] * len(keys)
        return len([s for s in seen if s.strip().upper() != "BEGIN"])

    one = await statements(["counted-00000"])
    five = await statements([f"counted-{i:05}" for i in range(1, 6)])
    assert five == 5 * one


async def test_text_with_a_nul_anywhere_refuses_the_whole_batch_before_anything_runs(
        shop, db_url):
    orders = [order_input("nul-free-00001"),
              order_input("nul-in-a-name", customer={"email": "x@example.com", "name": "A\x00"})]

    answer = (await shop.data(BATCH_REFUSAL, {"input": {"orders": orders}}, token=ERP))[
        "placeOrders"]

    # a malformed request, as a wrong type would be: the path names the order
    assert answer == {"results": [], "userErrors": [
        {"field": ["orders", "1", "customer", "name"], "code": "INVALID_INPUT"}]}
    assert (await count_rows(db_url, "orders"))["orders"] == 0


async def test_staff_may_send_a_batch_customers_stores_and_guests_are_refused_whole(
        shop, tokens, db_url):
    expected = {"integration": None, "admin": None, "agent": None, "ada": "FORBIDDEN",
                "store_roma": "FORBIDDEN", "anonymous": "UNAUTHENTICATED"}
    got = {}
    for who in expected:
        # ada's own email: placeOrder would take it from her, and from a guest
        orders = [order_input(f"batch-by-{who}", lines=ONE_SHIRT)]
        answer = (await shop.data(BATCH_REFUSAL, {"input": {"orders": orders}},
                                  token=tokens.get(who)))["placeOrders"]
        if answer["userErrors"]:
            assert answer["userErrors"] == [{"field": None, "code": expected[who]}]
            assert answer["results"] == []
        else:
            assert [r["order"] is not None for r in answer["results"]] == [True]
        got[who] = answer["userErrors"][0]["code"] if answer["userErrors"] else None
    assert got == expected
    assert (await count_rows(db_url, "orders"))["orders"] == 3


async def test_an_integration_places_an_order_named_as_itself_and_sees_all_of_it(shop):
    placed = (await shop.data(PLACE, {"input": order_input("erp-order-00001")},
                              token=ERP))["placeOrder"]
    assert placed["userErrors"] == []
    batch = await results_of(shop, [order_input("erp-order-00002")])
    numbers = [placed["order"]["number"], batch[0]["order"]["number"]]

    for number in numbers:
        seen = (await shop.data("""query($n: String!) { order(number: $n) { placedBy
            customer { email } timeline { actor message } } }""", {"n": number},
                                token=ERP))["order"]
        # staff-like: the whole order, the internal timeline included
        assert seen["placedBy"] == "integration:erp-sap"
        assert seen["customer"]["email"] == "ada@example.com"
        assert seen["timeline"][0]["actor"] == "integration:erp-sap"
        assert "by integration:erp-sap on behalf of ada@example.com" in \
            seen["timeline"][0]["message"]


async def sell_on_the_marketplace_from_milan(api: Api) -> None:
    """The contract's warehouse, also serving the marketplace channel the example orders on."""
    operations, examples = load_operations(), load_examples()
    locations = copy.deepcopy(examples["UpsertLocations"]["input"]["locations"][:1])
    locations[0]["channels"].append("marketplace:amazon")
    upserted = await api.data(operations["UpsertLocations"], {"input": {"locations": locations}},
                              token=ERP)
    assert upserted["upsertLocations"]["userErrors"] == []


async def test_the_contract_document_runs_unchanged_with_its_example(shop):
    if not NEXT.is_dir():
        pytest.skip("../shared/contract-next is not beside this checkout")
    documents = parse((NEXT / "integration.graphql").read_text()).definitions
    [contract] = [d for d in documents if isinstance(d, OperationDefinitionNode)
                  and d.name is not None and d.name.value == "PlaceOrders"]
    assert print_ast(contract) == print_ast(parse(PLACE_ORDERS))
    example = json.loads((NEXT / "examples.json").read_text())["PlaceOrders"]
    await sell_on_the_marketplace_from_milan(shop)

    first, second = await results_of(shop, example["input"]["orders"])

    assert first["idempotencyKey"] == "mkt-amazon-402-1111111-0000001"
    assert first["userErrors"] == [] and first["order"]["status"] == "ALLOCATED"
    assert second["order"] is None
    assert refusals([second]) == {0: [("UNKNOWN_SKU", ["lines", "0", "sku"])]}


async def test_a_batch_past_500_orders_is_refused_whole_before_anything_runs(shop, db_url):
    orders = [order_input(f"too-many-{i:05}", lines=ONE_SHIRT) for i in range(501)]

    result = await shop.post(PLACE_ORDERS, {"input": {"orders": orders}}, token=ERP)

    assert "data" not in result
    [error] = result["errors"]
    assert error["extensions"] == {"code": "INPUT_LIST_TOO_LONG", "limit": 500}
    assert (await count_rows(db_url, "orders"))["orders"] == 0


async def test_a_batch_spends_the_callers_budget_order_by_order(db_url, clock):
    settings = make_settings(db_url, rate_limit_burst=700, rate_limit_per_second=0.01)
    app = create_app(settings, clock=clock)
    # refused quickly (no such channel): the budget is spent before anything runs either way
    orders = [order_input(f"budget-{i:05}", channel="telepathy") for i in range(200)]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        api = Api(client, app)

        first = await api.post(PLACE_ORDERS, {"input": {"orders": orders}}, token=ERP)
        again = await api.post(PLACE_ORDERS, {"input": {"orders": orders}}, token=ERP)

    assert first["extensions"]["cost"]["requested"] == 601
    assert first["extensions"]["cost"]["throttle"]["remaining"] == 99
    assert len(first["data"]["placeOrders"]["results"]) == 200
    assert "data" not in again
    assert again["errors"][0]["extensions"]["code"] == "THROTTLED"


def _cost(document: str, orders: list[dict], limits: Limits | None = None) -> int:
    parsed = parse(document)
    return measure(build_schema()._schema, parsed, get_operation_ast(parsed),
                   {"input": {"orders": orders}}, limits or Limits())


def test_a_batch_list_may_hold_500_orders_every_other_list_still_250():
    orders = [order_input(f"limit-{i:05}") for i in range(500)]
    assert _cost(PLACE_ORDERS, orders) == 1 + 500 * 3  # within the default 5 000
    assert _cost(PLACE_ORDERS, orders[:200]) == 1 + 200 * 3
    with pytest.raises(GraphQLError) as refused:
        _cost(PLACE_ORDERS, [*orders, order_input("limit-00501")])
    assert refused.value.extensions == {"code": "INPUT_LIST_TOO_LONG", "limit": 500}
    long_cart = order_input("limit-cart-1", lines=ONE_SHIRT * 251)
    with pytest.raises(GraphQLError) as refused:
        _cost(PLACE_ORDERS, [long_cart])
    assert refused.value.extensions == {"code": "INPUT_LIST_TOO_LONG", "limit": 250}
    # the list as a variable of its own inside a literal input: known by where it sits
    nested = parse("""mutation($orders: [PlaceOrderInput!]!) {
      placeOrders(input: {orders: $orders}) { results { idempotencyKey order { number }
      userErrors { code } } } }""")
    schema, operation = build_schema()._schema, get_operation_ast(nested)
    assert measure(schema, nested, operation, {"orders": orders}, Limits()) == 1 + 500 * 3
    with pytest.raises(GraphQLError) as refused:
        measure(schema, nested, operation, {"orders": orders * 2}, Limits())
    assert refused.value.extensions == {"code": "INPUT_LIST_TOO_LONG", "limit": 500}


def test_every_order_of_a_batch_costs_at_least_one_whatever_is_asked_back():
    orders = [order_input(f"cheap-{i:05}") for i in range(200)]
    only_keys = "mutation($input: PlaceOrdersInput!) { placeOrders(input: $input) { " \
                "results { idempotencyKey } } }"
    only_typename = "mutation($input: PlaceOrdersInput!) { placeOrders(input: $input) { " \
                    "__typename } }"
    assert _cost(only_keys, orders) == 1 + 200
    assert _cost(only_typename, orders) == 1 + 200
    assert _cost(only_keys, []) == 2  # nothing to place: the field and its list
