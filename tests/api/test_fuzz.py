"""Property-based fuzzing: operations generated from schema.graphql (hypothesis-graphql), sent
to the ASGI app as several principals on both engines, against a seeded network.

Whatever is asked, the API answers JSON with `data` or `errors`, never a 5xx, never a
traceback, SQL or an exception's class name; every error carries a code and none is an
unexpected one (INTERNAL); and the database invariants (SPEC §3) hold afterwards.

Strings, ids and integers are drawn half from values that exist in the seeded network (order
numbers, location codes, SKUs, global ids, emails) so that the generated operations reach the
code behind the lookups, not only the "unknown" answers. The run is derandomized: the same
operations every run. PROMESSA_FUZZ_EXAMPLES scales it (examples per kind, per engine).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import graphql
import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from api.app import create_app
from api.limits import Limits
from tests import fuzzlog
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import ROOT, Api, FixedClock, make_settings, seed_contract_network
from tests.invariants import violations

EXAMPLES = int(os.environ.get("PROMESSA_FUZZ_EXAMPLES", "200"))
# another seed explores other operations (the default run is always the same)
SEED = os.environ.get("PROMESSA_FUZZ_SEED")
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
PRINCIPALS = ("anonymous", "ada", "store_roma", "agent", "integration", "admin")
# what must never reach a client: stack traces, SQL, driver names, Python exception classes
LEAK = re.compile(
    r"Traceback|File \"|site-packages|sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg"
    r"|\bSELECT\s|\bINSERT INTO\b|\bUPDATE \w+ SET\b|\bDELETE FROM\b"
    r"|\b(Key|Value|Type|Attribute|Assertion|Index|Runtime|Lookup|Overflow|ZeroDivision"
    r"|Recursion|Unicode\w*|Integrity|Operational|Programming|Interface|Database|Data)Error\b"
    r"|InvalidOperation|NoneType|object has no attribute|StrawberryGraphQLError")


def _gid(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def _known(api: Api, tokens: dict[str, str]) -> dict[str, list]:
    """Values that exist in the seeded network, for the generator to draw from."""
    numbers = []
    for i, (sku, quantity, method) in enumerate((("TSHIRT-BLU-M", 2, "SHIP"),
                                                ("LAMP-ARCO", 1, "SHIP"),
                                                ("TSHIRT-BLU-M", 1, "PICKUP"))):
        changes: dict[str, Any] = {"lines": [{"sku": sku, "quantity": quantity}]}
        if method == "PICKUP":
            changes["delivery"] = {"method": "PICKUP", "pickupLocation": "ST-ROMA"}
        placed = await api.data(PLACE, {"input": order_input(f"fuzz-seed-{i:04d}", **changes)},
                                token=tokens["ada"])
        assert placed["placeOrder"]["userErrors"] == [], placed
        numbers.append(placed["placeOrder"]["order"]["number"])
    found = await api.data("""query($n: [String!]!) { orders(first: 10) { edges { node { id
        fulfillments { id } } } } locations { id code } skus(first: 10) { edges { node { id sku
        } } } availability(skus: $n, channel: "web") { incoming { id } } }""",
                           {"n": ["LAMP-ARCO"]}, token=tokens["admin"])
    orders_ = [e["node"] for e in found["orders"]["edges"]]
    ids = [o["id"] for o in orders_] + [f["id"] for o in orders_ for f in o["fulfillments"]]
    ids += [x["id"] for x in found["locations"]]
    ids += [e["node"]["id"] for e in found["skus"]["edges"]]
    ids += [x["id"] for r in found["availability"] for x in r["incoming"]]
    strings = numbers + [x["code"] for x in found["locations"]] + [
        e["node"]["sku"] for e in found["skus"]["edges"]] + [
        "web", "store", "call_center", "*", "EUR", "USD", "IT", "ada@example.com",
        "bob@example.com", "0", "1", "DAMAGED", "CUSTOMER_REQUEST", "BRT", "Roma", "00184",
        "Europe/Rome", "15:00", "2030-01-02T09:30:00+00:00", ""]
    return {"strings": strings, "ids": ids + [_gid("Order", "nope"), "not-an-id"]}


def _scalars(known: dict[str, list]) -> dict[str, st.SearchStrategy]:
    def string(values: list[str]) -> st.SearchStrategy:
        # known values made hostile: invisible characters in identifiers, bidi overrides,
        # controls, decomposed accents, texts far past every bound (api/text.py)
        hostile = st.tuples(st.sampled_from(values), st.sampled_from([
            "\u200b", "\u00ad", "\ufeff", "\u202e", "\u2066", "\x07", "\x1b", "\u0301",
            "\u2028", "x" * 3000])).map(lambda p: p[0] + p[1])
        return st.one_of(st.sampled_from(values), st.text(max_size=40), hostile).map(
            lambda s: graphql.StringValueNode(value=s))

    # mostly within page sizes (a `first` over 100 refuses the whole document unexecuted),
    # now and then an extreme
    ints = st.sampled_from([*range(-3, 101), -2**31, 2**31 - 1, 101, 251])
    # mostly values the scalar accepts (an unparsable one refuses the whole document before
    # it runs), and a few it does not
    times = st.sampled_from([
        "2030-01-02T09:30:00+00:00", "2030-02-01T12:00:00+01:00", "2029-12-31T23:59:59Z",
        "2030-01-05T00:00:00-05:00", "2030-01-02T09:30:00", "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+14:00", "2031-06-30T10:00:00+02:00", "2030-13-45", ""])
    dates = st.sampled_from(["2030-01-02", "2030-12-25", "1999-12-31", "3000-01-01",
                             "0001-01-01", "9999-12-31", "2030-02-30", "2030-1-2", ""])
    decimals = st.sampled_from(["19.90", "0", "-1.00", "0.001", "4.90", "150.00", "1e9999",
                                "-1e9999", "123456789012345678901234567890.5", "NaN",
                                "Infinity", "abc"])
    return {
        "String": string(known["strings"]),
        "ID": string(known["ids"]),
        "Int": ints.map(lambda n: graphql.IntValueNode(value=str(n))),
        "DateTime": times.map(lambda s: graphql.StringValueNode(value=s)),
        "Decimal": decimals.map(lambda s: graphql.StringValueNode(value=s)),
        "Date": dates.map(lambda s: graphql.StringValueNode(value=s)),
    }


@asynccontextmanager
async def _target(db_url: str, tokens: dict[str, str]) -> AsyncIterator[tuple[Api, dict]]:
    # rate limits off and a generous cost budget: thousands of rich operations a minute from
    # six callers is the point here, and each should reach the resolvers, not stop at the
    # budget (the limits have their own tests; depth, aliases and list sizes stay as shipped)
    limits = Limits(max_cost=1_000_000, max_tokens=20_000)
    app = create_app(make_settings(db_url, rate_limit=False, limits=limits), clock=FixedClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            api = Api(client, app)
            await seed_contract_network(api, tokens)
            yield api, await _known(api, tokens)


def check(response: httpx.Response, *, valid: bool = True) -> None:
    """What every answer to every operation must look like."""
    assert response.status_code < 500, response.text
    if not valid:  # a document with one schema violation: refused whole, with a code
        assert response.json().get("data") is None, response.text
    assert not LEAK.search(response.text), response.text
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or "errors" in body), body
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, error
        assert code != "INTERNAL", error


def _fuzz(db_url: str, tokens: dict[str, str],
          strategy: Callable[..., st.SearchStrategy[str]], *, mode: Mode = Mode.POSITIVE,
          examples: int = EXAMPLES) -> int:
    sent = 0
    with start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(_target(db_url, tokens)) as (api, known):
        operations = strategy(SCHEMA, custom_scalars=_scalars(known), mode=mode)

        @settings(max_examples=examples, deadline=None, derandomize=SEED is None, database=None,
                  phases=(Phase.generate, Phase.shrink),
                  suppress_health_check=list(HealthCheck))
        @given(operation=operations)
        def run(operation: str) -> None:
            nonlocal sent
            note(operation)
            body = json.dumps({"query": operation})
            for who in PRINCIPALS:  # each document as every principal: generating costs more
                headers = {"content-type": "application/json"}
                if who in tokens:
                    headers["authorization"] = f"Bearer {tokens[who]}"
                response = portal.call(partial(api.client.post, "/graphql", content=body,
                                               headers=headers))
                sent += 1
                check(response, valid=mode is Mode.POSITIVE)

        (run if SEED is None else seed(int(SEED))(run))()
        assert portal.call(violations, db_url) == []
    fuzzlog.record("http", sent)
    return sent


# When a non-null field fails (a refused root field in a document that asks for several),
# graphql-core drops its siblings' pending resolvers without awaiting them; Python reports
# each as a "never awaited" RuntimeWarning when it is collected. The answer is right (the
# error, data null); the warning is graphql-core's bookkeeping, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:coroutine '.*' was never awaited:RuntimeWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <coroutine object:pytest.PytestUnraisableExceptionWarning")]


def test_generated_queries_never_break_the_api(db_url, tokens):
    assert _fuzz(db_url, tokens, queries) >= EXAMPLES * len(PRINCIPALS)


def test_generated_mutations_never_break_the_api(db_url, tokens):
    assert _fuzz(db_url, tokens, mutations) >= EXAMPLES * len(PRINCIPALS)



def test_generated_invalid_operations_are_refused_with_a_code(db_url, tokens):
    """Documents with one schema violation each (a wrong argument type, a missing required
    argument, an unknown enum value): refused before anything runs."""
    examples = max(1, EXAMPLES // 4)
    assert _fuzz(db_url, tokens, queries, mode=Mode.NEGATIVE, examples=examples) + _fuzz(
        db_url, tokens, mutations, mode=Mode.NEGATIVE, examples=examples) >= (
        2 * examples * len(PRINCIPALS))
