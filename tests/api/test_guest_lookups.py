"""Guest lookups by order number and email give nothing away: a wrong email and an unknown
number are the same work (issue 17, item 4)."""

from __future__ import annotations

import pytest

from tests.api.realtime import Follower, refusal, ws_client
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import Api, Live, seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio


async def test_a_wrong_email_and_an_unknown_number_cost_trackorder_the_same_statements(
        api: Api, tokens: dict[str, str]) -> None:
    """Same work, so no timing tells a real order number from an unknown one (issue 17,
    item 4): one statement finding nothing, either way."""
    await seed_contract_network(api, tokens)
    number = (await api.data(PLACE, {"input": order_input("text-trk-0001")}))["placeOrder"][
        "order"]["number"]
    seen = statement_counter(api.app.state.db)
    track = """query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { number } }"""
    counts = []
    for n, e in ((number, "someone@example.com"), ("PR-999999", "someone@example.com")):
        seen.clear()
        answer = await api.data(track, {"n": n, "e": e})
        assert answer["trackOrder"] is None
        counts.append(len([s for s in seen if s.strip().upper() not in ("BEGIN", "COMMIT")]))
    assert counts[0] == counts[1] == 1
    seen.clear()
    assert (await api.data(track, {"n": number, "e": "ADA@example.com "}))["trackOrder"] == {
        "number": number}


def _work(seen: list[str]) -> int:
    return len([s for s in seen if s.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK")])


ELIGIBLE = """query($n: String!, $e: String) { returnEligibility(orderNumber: $n, email: $e) {
  orderNumber } }"""
REQUEST = """mutation($i: RequestReturnInput!) { requestReturn(input: $i) {
  userErrors { field code message } } }"""
FOLLOW = """subscription($n: String, $e: String) { orderEvents(number: $n, email: $e) {
  type } }"""


async def test_every_guest_proof_costs_the_same_for_a_wrong_email_and_an_unknown_number(
        live: Live, tokens: dict[str, str]) -> None:
    """Not only trackOrder: a guest's number and email find a return's eligibility, ask for a
    return and follow an order too; each answers a wrong email and an unknown number alike,
    with the same one statement (they were 7 and 1: the order was loaded whole, then its
    email compared)."""
    api = live.api
    await seed_contract_network(api, tokens)
    number = (await api.data(PLACE, {"input": order_input("guest-proof-0001")}))[
        "placeOrder"]["order"]["number"]
    seen = statement_counter(api.app.state.db)
    answers: dict[str, list[object]] = {"eligibility": [], "request": [], "follow": []}
    counts: dict[str, list[int]] = {"eligibility": [], "request": [], "follow": []}
    for n in (number, "PR-999999"):
        email = "someone@example.com"
        seen.clear()
        found = await api.data(ELIGIBLE, {"n": n, "e": email})
        answers["eligibility"].append(found)
        counts["eligibility"].append(_work(seen))
        seen.clear()
        asked = await api.data(REQUEST, {"i": {
            "orderNumber": n, "email": email, "resolution": "REFUND", "method": "SHIP_BACK",
            "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]}})
        errors = asked["requestReturn"]["userErrors"]
        answers["request"].append([(e["field"], e["code"]) for e in errors])
        counts["request"].append(_work(seen))
        seen.clear()
        refused = await refusal(live.ws_url, None, FOLLOW, {"n": n, "e": email})
        answers["follow"].append(refused["extensions"]["code"])
        counts["follow"].append(_work(seen))

    assert answers == {"eligibility": [{"returnEligibility": None}] * 2,
                       "request": [[(["orderNumber"], "NOT_FOUND")]] * 2,
                       "follow": ["FORBIDDEN"] * 2}
    assert counts == {"eligibility": [1, 1], "request": [1, 1], "follow": [1, 1]}


async def test_a_signed_in_customer_learns_nothing_of_another_customer_s_order_number(
        live: Live, tokens: dict[str, str]) -> None:
    """Bob asking for Ada's order by its number does the same one statement as asking for a
    number nobody has: no timing tells him that Ada's exists."""
    api = live.api
    await seed_contract_network(api, tokens)
    number = (await api.data(PLACE, {"input": order_input("signed-proof-0001")},
                             token=tokens["ada"]))["placeOrder"]["order"]["number"]
    seen = statement_counter(api.app.state.db)
    bob = tokens["bob"]
    answers: dict[str, list[object]] = {"order": [], "eligibility": [], "request": [],
                                        "follow": []}
    counts: dict[str, list[int]] = {"order": [], "eligibility": [], "request": [], "follow": []}
    for n in (number, "PR-999999"):
        seen.clear()
        answers["order"].append(await api.data(
            'query($n: String!) { order(number: $n) { number } }', {"n": n}, token=bob))
        counts["order"].append(_work(seen))
        seen.clear()
        answers["eligibility"].append(await api.data(ELIGIBLE, {"n": n}, token=bob))
        counts["eligibility"].append(_work(seen))
        seen.clear()
        asked = await api.data(REQUEST, {"i": {
            "orderNumber": n, "resolution": "REFUND", "method": "SHIP_BACK",
            "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]}},
            token=bob)
        answers["request"].append([(e["field"], e["code"])
                                   for e in asked["requestReturn"]["userErrors"]])
        counts["request"].append(_work(seen))
        seen.clear()
        refused = await refusal(live.ws_url, bob, FOLLOW, {"n": n})
        answers["follow"].append(refused["extensions"]["code"])
        counts["follow"].append(_work(seen))

    assert answers == {"order": [{"order": None}] * 2,
                       "eligibility": [{"returnEligibility": None}] * 2,
                       "request": [[(["orderNumber"], "NOT_FOUND")]] * 2,
                       "follow": ["FORBIDDEN"] * 2}
    assert counts == {"order": [1, 1], "eligibility": [1, 1], "request": [1, 1],
                      "follow": [1, 1]}
    seen.clear()
    mine = await api.data('query($n: String!) { order(number: $n) { number } }', {"n": number},
                          token=tokens["ada"])
    assert mine == {"order": {"number": number}}


async def test_a_signed_in_customer_who_gives_the_order_s_email_follows_it_as_its_guest(
        live: Live, tokens: dict[str, str]) -> None:
    """Bob holding Ada's order number and email has what a guest has: the guest's view."""
    api = live.api
    await seed_contract_network(api, tokens)
    number = (await api.data(PLACE, {"input": order_input("signed-proof-0002")},
                             token=tokens["ada"]))["placeOrder"]["order"]["number"]
    replay = """subscription($n: String, $e: String) { orderEvents(number: $n, email: $e,
        after: "0") { type tracking { number } order { number } } }"""
    async with ws_client(live.ws_url, tokens["bob"]) as session:
        async with Follower(session, replay, {"n": number, "e": "Ada@Example.com"}) as events:
            [placed] = await events.take(1)
    assert placed == {"type": "ORDER_PLACED", "tracking": {"number": number}, "order": None}
