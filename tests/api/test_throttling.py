"""Cost budgets per caller and guest-lookup limits: THROTTLED with a retry-after, in memory
and — so it holds across processes — in Redis shared by two app instances."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import issue_token
from tests.api import test_limits
from tests.api.test_limits import PLACE, place_input
from tests.conftest import SECRET, Api, make_settings
from tests.persistence.test_fanout_backends import _redis_url

pytestmark = pytest.mark.anyio
NEW = "application/graphql-response+json"
QUERY = "{ channels { code } }"  # costs 1
guarded = test_limits.guarded  # the fixture: a seeded app and a statement counter


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def client(app: Any, address: str = "127.0.0.1") -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http, app)


@asynccontextmanager
async def app_with(db_url: str, **overrides: Any) -> AsyncIterator[Any]:
    app = create_app(dataclasses.replace(make_settings(db_url), **overrides))
    async with app.router.lifespan_context(app):
        yield app


async def ask(api: Api, *, token: str | None = None, query: str = QUERY) -> httpx.Response:
    headers = {"accept": NEW, **({"authorization": f"Bearer {token}"} if token else {})}
    return await api.client.post("/graphql", json={"query": query}, headers=headers)


def customer_token() -> str:
    """A customer nobody else is: a bucket of its own, also in a shared Redis."""
    return issue_token(role="customer", email=f"{uuid.uuid4().hex}@example.com", secret=SECRET)


async def test_a_caller_past_its_budget_is_throttled_with_retry_after(db_url):
    async with app_with(db_url, rate_limit_burst=3, rate_limit_per_second=0.01) as app, \
            client(app) as api:
        remaining = []
        for _ in range(3):
            response = await ask(api)
            assert response.status_code == 200
            remaining.append(response.json()["extensions"]["cost"]["throttle"]["remaining"])
        assert remaining == [2, 1, 0]
        refused = await ask(api)
        assert refused.status_code == 429
        body = refused.json()
        [error] = body["errors"]
        assert error["extensions"]["code"] == "THROTTLED" and "data" not in body
        assert 1 <= error["extensions"]["retryAfter"] <= 100  # 1 point at 0.01/s
        assert refused.headers["retry-after"] == str(error["extensions"]["retryAfter"])
        legacy = await api.client.post("/graphql", json={"query": QUERY})
        assert legacy.status_code == 200  # application/json: 200, and the same refusal
        assert legacy.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert "retry-after" in legacy.headers
        # another client address, and a signed-in caller, have budgets of their own
        async with client(app, "10.1.2.3") as other:
            assert (await ask(other)).status_code == 200
        assert (await ask(api, token=customer_token())).status_code == 200


async def test_a_refused_mutation_spends_nothing_and_runs_nothing(guarded):
    async with guarded(rate_limit_burst=3, rate_limit_per_second=0.01) as (api, statements):
        result = await api.post(PLACE, place_input())  # costs 3: the whole budget
        assert result["data"]["placeOrder"]["order"]["number"]
        statements.clear()
        again = await api.post(PLACE, place_input())
        assert again["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert statements == []


async def test_the_rate_limit_can_be_switched_off(db_url):
    async with app_with(db_url, rate_limit=False, rate_limit_burst=1) as app, \
            client(app) as api:
        for _ in range(5):
            response = await ask(api)
            assert response.status_code == 200
            assert "throttle" not in response.json()["extensions"]["cost"]


@pytest.mark.redis
async def test_the_budget_in_redis_holds_across_two_app_instances(db_url):
    redis = _redis_url()
    token = customer_token()
    settings = dict(rate_limit_url=redis, rate_limit_burst=4, rate_limit_per_second=0.01)
    async with app_with(db_url, **settings) as first, app_with(db_url, **settings) as second, \
            client(first) as one, client(second) as two:
        seen = []
        for api in (one, two, one, two):
            response = await ask(api, token=token)
            assert response.status_code == 200, response.text
            seen.append(response.json()["extensions"]["cost"]["throttle"]["remaining"])
        assert seen == [3, 2, 1, 0]  # one bucket, spent from both processes
        for api in (one, two):
            refused = await ask(api, token=token)
            assert refused.status_code == 429
            assert refused.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert (await ask(two, token=customer_token())).status_code == 200


@pytest.mark.redis
async def test_the_redis_fan_out_url_also_holds_the_budgets(db_url):
    token = customer_token()
    settings = dict(broadcast_url=_redis_url(), rate_limit_burst=2, rate_limit_per_second=0.01)
    async with app_with(db_url, **settings) as first, app_with(db_url, **settings) as second, \
            client(first) as one, client(second) as two:
        assert (await ask(one, token=token)).status_code == 200
        assert (await ask(two, token=token)).status_code == 200
        assert (await ask(one, token=token)).status_code == 429


TRACK = "query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { number } }"


async def test_guest_lookups_are_limited_per_order_number_and_client(guarded):
    async with guarded(guest_lookups_per_order=3) as (api, _):
        number = (await api.data(PLACE, place_input()))["placeOrder"]["order"]["number"]
        async with client(api.app, "10.0.0.1") as guesser:  # one client guessing emails
            answers = [await guesser.post(TRACK, {"n": number, "e": f"x{i}@example.com"})
                       for i in range(4)]
            # the order's next number, before it exists: spent by the guesser for itself only
            ahead = [await guesser.post(TRACK, {"n": f"PR-{int(number[3:]) + 1:06d}",
                                                "e": "x@example.com"}) for _ in range(3)]
        assert [a["data"]["trackOrder"] for a in answers[:3]] == [None, None, None]
        [error] = answers[3]["errors"]
        assert error["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["retryAfter"] >= 1
        assert answers[3]["data"]["trackOrder"] is None
        assert all("errors" not in a for a in ahead)
        # the stranger cannot spend the owner's lookups: from another client the right email
        # finds the order at once (issue 17, item 5)
        async with client(api.app, "10.0.0.2") as owner:
            right = await owner.post(TRACK, {"n": number, "e": "ada@example.com"})
        assert right["data"]["trackOrder"]["number"] == number


async def test_guest_lookups_are_limited_per_client(guarded):
    async with guarded(guest_lookups_per_client=3) as (api, _):
        number = (await api.data(PLACE, place_input()))["placeOrder"]["order"]["number"]
        async with client(api.app, "10.9.9.9") as guesser:
            for i in range(3):
                result = await guesser.post(TRACK, {"n": f"PR-{900000 + i}", "e": "a@b.co"})
                assert result["data"]["trackOrder"] is None and "errors" not in result
            refused = await guesser.post(TRACK, {"n": number, "e": "ada@example.com"})
            assert refused["errors"][0]["extensions"]["code"] == "THROTTLED"
        async with client(api.app, "10.8.8.8") as owner:  # another client is not affected
            found = await owner.post(TRACK, {"n": number, "e": "ada@example.com"})
            assert found["data"]["trackOrder"]["number"] == number


async def test_the_guest_path_of_order_events_spends_the_same_lookups(live_server, tokens):
    from tests.api.realtime import refusal
    from tests.conftest import seed_contract_network

    async with live_server(guest_lookups_per_order=1) as live:
        await seed_contract_network(live.api, tokens)
        number = (await live.api.data(PLACE, place_input()))["placeOrder"]["order"]["number"]
        found = await live.api.post(TRACK, {"n": number, "e": "ada@example.com"})
        assert found["data"]["trackOrder"]["number"] == number  # the order's one lookup
        error = await refusal(live.ws_url, None, """subscription($n: String!, $e: String!) {
            orderEvents(number: $n, email: $e) { sequence } }""",
                              {"n": number, "e": "ada@example.com"})
        assert error["extensions"]["code"] == "THROTTLED"


ELIGIBLE = """query($n: String!, $e: String) { returnEligibility(orderNumber: $n, email: $e) {
  orderNumber } }"""
REQUEST_RETURN = """mutation($n: String!, $e: String) { requestReturn(input: {orderNumber: $n,
  email: $e, resolution: REFUND, method: SHIP_BACK,
  lines: [{sku: "TSHIRT-BLU-M", quantity: 1, reason: "TOO_SMALL"}]}) {
  return { number } userErrors { code } } }"""


async def test_guest_returns_spend_the_same_lookups_as_track_order(guarded):
    """returnEligibility and requestReturn answer a guest by number + email: guessing there
    is limited exactly like trackOrder."""
    async with guarded(guest_lookups_per_client=2) as (api, _):
        number = (await api.data(PLACE, place_input()))["placeOrder"]["order"]["number"]
        async with client(api.app, "10.7.7.7") as guesser:
            for i in range(2):
                asked = await guesser.post(ELIGIBLE, {"n": number, "e": f"x{i}@example.com"})
                assert asked["data"]["returnEligibility"] is None and "errors" not in asked
            refused = await guesser.post(ELIGIBLE, {"n": number, "e": "ada@example.com"})
            assert refused["errors"][0]["extensions"]["code"] == "THROTTLED"
            mutation = await guesser.post(REQUEST_RETURN, {"n": number, "e": "y@example.com"})
            assert [e["code"] for e in mutation["data"]["requestReturn"]["userErrors"]] == [
                "THROTTLED"]
