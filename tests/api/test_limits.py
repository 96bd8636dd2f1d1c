"""Every request limit refuses with its own code before anything runs.

Each refused document carries a mutation that would write (or a query that would read): the
statement counter proves not one SQL statement was sent, and the database is unchanged. The
limits do not depend on the engine, so these run on SQLite only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import GraphQLError

from api.app import create_app
from api.limits import Limits
from tests.conftest import (
    Api,
    load_examples,
    load_operations,
    make_settings,
    seed_contract_network,
    statement_counter,
)

pytestmark = pytest.mark.anyio
PLACE = """mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { number } userErrors { code } } }"""


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def guarded(db_url, clock, tokens) -> Callable[..., Any]:
    """`async with guarded(**settings) as (api, statements)`: a seeded app, then a counter."""

    @asynccontextmanager
    async def app_with(**overrides: Any) -> AsyncIterator[Api]:
        app = create_app(make_settings(db_url, **overrides), clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Api(client, app)

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[tuple[Api, list[str]]]:
        async with app_with() as api:  # seeded under the default limits
            await seed_contract_network(api, tokens)
        async with app_with(**overrides) as api:
            yield api, statement_counter(api.app.state.db)

    return start


def place_input() -> dict[str, Any]:
    """The contract's order, with a fresh idempotency key."""
    example = load_examples()["PlaceOrder"]
    return {"input": {**example["input"], "idempotencyKey": str(uuid.uuid4())}}


async def orders_placed(api: Api) -> int:
    async with api.app.state.db.writer.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar_one()


def code_of(result: dict[str, Any]) -> str:
    assert "data" not in result, result  # a request error: nothing ran
    return result["errors"][0]["extensions"]["code"]


DEEP_PLACE = """mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { fulfillments { location { code } } } } }"""
TWO_PLACES = """mutation Place($input: PlaceOrderInput!) {
  a: placeOrder(input: $input) { order { number } }
  b: placeOrder(input: $input) { order { number } } }"""
HIDDEN_ALIASES = """mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { ...Both ...Both } }
fragment Both on PlaceOrderPayload { first: order { number } second: order { status } }"""
CIRCULAR = """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { ...A } }
fragment A on PlaceOrderPayload { order { number } ...B }
fragment B on PlaceOrderPayload { userErrors { code } ...A }"""


@pytest.mark.parametrize(("limits", "document", "code"), [
    pytest.param(Limits(max_depth=3), DEEP_PLACE, "MAX_DEPTH_EXCEEDED", id="depth"),
    pytest.param(Limits(max_aliases=1), TWO_PLACES, "MAX_ALIASES_EXCEEDED", id="aliases"),
    # two aliases written once, spread twice: four
    pytest.param(Limits(max_aliases=3), HIDDEN_ALIASES, "MAX_ALIASES_EXCEEDED",
                 id="aliases-in-fragments"),
    pytest.param(Limits(max_tokens=20), PLACE, "MAX_TOKENS_EXCEEDED", id="tokens"),
    pytest.param(Limits(), CIRCULAR, "CIRCULAR_FRAGMENT", id="circular-fragments"),
    pytest.param(Limits(max_cost=2), PLACE, "MAX_COST_EXCEEDED", id="cost"),
])
async def test_a_mutation_past_a_limit_is_refused_with_its_code_and_never_runs(
        guarded, tokens, limits, document, code):
    async with guarded(limits=limits) as (api, statements):
        result = await api.post(document, place_input())
        assert code_of(result) == code
        assert statements == []
        assert await orders_placed(api) == 0


@pytest.mark.parametrize("document", [DEEP_PLACE, TWO_PLACES, HIDDEN_ALIASES, PLACE])
async def test_the_same_mutations_within_the_default_limits_run(guarded, tokens, document):
    async with guarded() as (api, statements):
        result = await api.post(document, place_input())
        assert "errors" not in result
        assert statements and await orders_placed(api) == 1


async def test_a_page_larger_than_a_hundred_is_refused_before_any_read(guarded, tokens):
    async with guarded() as (api, statements):
        for document in ("{ orders(first: 101) { totalCount } }",
                         "query Q($n: Int) { orders(first: $n) { totalCount } }"):
            result = await api.post(document, {"n": 1000}, token=tokens["admin"])
            assert code_of(result) == "PAGE_SIZE_EXCEEDED"
            assert result["errors"][0]["extensions"]["limit"] == 100
        assert statements == []
        assert (await api.data("{ orders(first: 100) { totalCount } }",
                               token=tokens["admin"]))["orders"]["totalCount"] == 0


async def test_an_input_list_longer_than_250_items_is_refused_and_nothing_is_written(
        guarded, tokens):
    document = load_operations()["SetInventory"]
    level = {"sku": "LAMP-ARCO", "location": "WH-MIL", "onHand": 999}
    async with guarded() as (api, statements):
        for levels in ([level] * 251, ):
            result = await api.post(document, {"input": {"reason": "CYCLE_COUNT",
                                                          "levels": levels}},
                                    token=tokens["integration"])
            assert code_of(result) == "INPUT_LIST_TOO_LONG"
        literal = "[" + ", ".join('"LAMP-ARCO"' for _ in range(251)) + "]"
        result = await api.post(f'{{ availability(skus: {literal}, channel: "web") {{ sku }} }}')
        assert code_of(result) == "INPUT_LIST_TOO_LONG"
        assert statements == []
        stock = await api.data('{ availability(skus: ["LAMP-ARCO"], channel: "web") '
                               '{ locations { location { code } onHand } } }',
                               token=tokens["integration"])  # raw levels are staff data
        assert stock["availability"][0]["locations"][0]["onHand"] == 1


async def test_a_batch_of_operations_is_refused_with_400_and_none_runs(guarded, tokens):
    async with guarded() as (api, statements):
        body = [{"query": PLACE, "variables": place_input()}] * 2
        response = await api.client.post("/graphql", json=body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BATCH_NOT_SUPPORTED"
        assert statements == []
        assert await orders_placed(api) == 0


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_parsed(guarded, tokens):
    async with guarded(max_body_bytes=2_000) as (api, statements):
        body = {"query": PLACE + " " * 2_000, "variables": place_input()}
        response = await api.client.post("/graphql", json=body)
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"

        async def chunked():  # no Content-Length: counted as it streams
            encoded = json.dumps(body).encode()
            for start in range(0, len(encoded), 500):
                yield encoded[start:start + 500]

        response = await api.client.post("/graphql", content=chunked(),
                                         headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert statements == []
        assert await orders_placed(api) == 0


async def test_nesting_the_parser_cannot_follow_is_a_depth_refusal(guarded):
    async with guarded() as (api, statements):
        result = await api.post("{" + "channels { " * 3000 + "code" + " }" * 3001)
        assert code_of(result) == "MAX_DEPTH_EXCEEDED"
        assert statements == []


async def test_a_fragment_bomb_is_counted_without_being_expanded(guarded):
    spreads = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    document = f"query {{ ...F0 }} {spreads} fragment F30 on Query {{ a: channels {{ code }} }}"
    async with guarded() as (api, statements):
        result = await api.post(document)
        assert code_of(result) == "MAX_ALIASES_EXCEEDED"
        assert result["errors"][0]["message"].startswith(f"{2 ** 30} aliases")
        assert statements == []


async def test_every_answer_reports_its_cost(guarded, tokens):
    async with guarded() as (api, _):
        result = await api.post("{ orders(first: 10) { edges { node { number lines { sku } } } "
                                "} }", token=tokens["admin"])
        # orders 1 + 10 x (edges 1 + node 1 + lines 1)
        assert result["extensions"]["cost"]["requested"] == 31
        assert result["extensions"]["cost"]["limit"] == 5000
        omitted = await api.post("{ orders { edges { node { number } } } }",
                                 token=tokens["admin"])
        assert omitted["extensions"]["cost"]["requested"] == 1 + 20 * 2  # default page: 20
    async with guarded(limits=Limits(max_cost=30)) as (api, _):
        refused = await api.post("{ orders(first: 10) { edges { node { number lines { sku } } "
                                 "} } }", token=tokens["admin"])
        assert refused["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 31,
                                                      "limit": 30}
        assert refused["extensions"]["cost"] == {"requested": 31, "limit": 30}


async def test_the_contract_and_graphiql_introspection_fit_the_default_limits(guarded):
    from graphql import get_introspection_query

    async with guarded() as (api, _):
        result = await api.post(get_introspection_query(descriptions=True,
                                                        input_value_deprecation=True))
        assert "errors" not in result and result["data"]["__schema"]["queryType"]


async def test_an_unknown_fragment_is_a_bad_request_not_a_crash(guarded):
    # strawberry's own QueryDepthLimiter fails with a KeyError here; ours leaves it to validation
    async with guarded() as (api, statements):
        [error] = (await api.post("query { ...Missing }"))["errors"]
        assert error["message"] == "Unknown fragment 'Missing'."
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert statements == []


def test_a_variable_left_to_its_default_is_priced_like_the_same_literal():
    """`query($n: Int = 100) { orders(first: $n) … }` runs with 100: it costs what
    `orders(first: 100)` costs, and a default past the page limit is refused the same way."""
    from graphql import get_operation_ast, parse

    from api.limits import Limits, measure
    from api.schema.root import build_schema

    schema = build_schema()._schema

    def cost(text: str, variables: dict | None = None) -> int:
        document = parse(text)
        return measure(schema, document, get_operation_ast(document), variables, Limits())

    literal = cost("{ orders(first: 100) { edges { node { number } } } }")
    default = "query($n: Int = 100) { orders(first: $n) { edges { node { number } } } }"
    assert cost(default) == literal
    assert cost(default, {"n": 5}) < literal  # the request's own value wins
    with pytest.raises(GraphQLError) as refused:
        cost("query($n: Int = 1000) { orders(first: $n) { totalCount } }")
    assert refused.value.extensions["code"] == "PAGE_SIZE_EXCEEDED"
