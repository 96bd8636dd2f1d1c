"""Who may do what with returns; rejecting an exchange; no N+1 when listing returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.lifecycle import order
from tests.api.returns import DOCUMENT, OPERATIONS, delivered_order, op, request, seed
from tests.api.test_query_counts import _count
from tests.invariants import violations

pytestmark = pytest.mark.anyio
SHIRT = "TSHIRT-BLU-M"
ONE = [{"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL"}]


def _codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def test_the_return_documents_hold_exactly_the_operations_the_tests_run():
    from graphql import OperationDefinitionNode, parse

    names = {d.name.value for d in parse(DOCUMENT).definitions
             if isinstance(d, OperationDefinitionNode)}
    assert names == set(OPERATIONS)


async def test_customers_reach_only_their_own_orders_and_guests_need_the_email(
        api, tokens, db_url, clock):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-auth-0001",
                                   [{"sku": SHIRT, "quantity": 3}], token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    for token, email in ((tokens["bob"], None), (None, None), (None, "bob@example.com"),
                         (tokens["bob"], "ada@example.com")):
        refused = await op(api, "RequestReturn", request(number, ONE, email=email), token=token)
        assert (refused["return"], refused["userErrors"][0]["code"],
                refused["userErrors"][0]["field"]) == (None, "NOT_FOUND", ["orderNumber"])
    store = await op(api, "RequestReturn", request(number, ONE), token=tokens["store_roma"])
    assert _codes(store) == ["FORBIDDEN"]

    guest = await op(api, "RequestReturn", request(number, ONE, email=" Ada@Example.com "))
    assert guest["userErrors"] == [] and guest["return"]["status"] == "APPROVED"
    on_behalf = await op(api, "RequestReturn", request(number, ONE), token=tokens["agent"])
    assert on_behalf["userErrors"] == []
    listed = await op(api, "OrderReturns", {"number": number}, token=tokens["agent"])
    assert [r["requestedBy"] for r in listed["returns"]] == ["guest", "agent:agent@example.com"]
    assert await op(api, "OrderReturns", {"number": number}, token=tokens["bob"]) is None
    assert await op(api, "TrackOrderReturns", {"number": number, "email": "bob@example.com"}) \
        is None

    r1 = guest["return"]["number"]
    for token, code in ((None, "UNAUTHENTICATED"), (tokens["ada"], "FORBIDDEN"),
                        (tokens["store_mil"], "FORBIDDEN")):
        assert _codes(await op(api, "RefundReturn", {"input": {"returnNumber": r1}},
                               token=token)) == [code]
        assert _codes(await op(api, "ApproveReturn", {"input": {"returnNumber": r1}},
                               token=token)) == [code]
    assert _codes(await op(api, "ReceiveReturn", {"input": {"returnNumber": r1, "lines": [
        {"sku": SHIRT, "condition": "RESTOCK"}]}}, token=tokens["ada"])) == ["FORBIDDEN"]
    assert _codes(await op(api, "ReceiveReturn", {"input": {"returnNumber": "PR-999999-R1",
                                                            "lines": []}},
                           token=tokens["agent"])) == ["NOT_FOUND"]
    assert await violations(db_url) == []


async def test_a_costly_return_waits_for_an_agent_and_its_label_comes_with_approval(
        api, tokens, clock):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-auth-0002",
                                   [{"sku": "LAMP-ARCO", "quantity": 1}], token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    asked = await op(api, "RequestReturn", request(number, [
        {"sku": "LAMP-ARCO", "quantity": 1, "reason": "DAMAGED"}]), token=tokens["ada"])
    ret = asked["return"]
    assert (ret["status"], ret["autoApproved"], ret["label"]) == ("REQUESTED", False, None)
    assert ret["refundAmount"]["amount"] == "1285.10"  # 1290.00 less the 4.90 label
    early = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret["number"], "lines": [
        {"sku": "LAMP-ARCO", "condition": "RESTOCK"}]}}, token=tokens["store_mil"])
    assert early["userErrors"][0]["code"] == "INVALID_TRANSITION"
    approved = await op(api, "ApproveReturn", {"input": {"returnNumber": ret["number"]}},
                        token=tokens["agent"])
    assert approved["return"]["status"] == "APPROVED"
    got = await op(api, "OrderReturns", {"number": number}, token=tokens["ada"])
    assert got["returns"][0]["label"]["carrier"] == "BRT"


async def test_rejecting_an_exchange_cancels_its_replacement_and_frees_the_units(
        api, tokens, db_url, clock):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-auth-0003",
                                   [{"sku": SHIRT, "quantity": 1}], token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    asked = await op(api, "RequestReturn", request(number, [
        {**ONE[0], "exchangeSku": "TSHIRT-BLU-L"}], resolution="EXCHANGE"), token=tokens["ada"])
    ret = asked["return"]
    replacement = ret["replacementOrderNumber"]
    assert (await order(api, replacement, tokens["agent"]))["status"] == "ON_HOLD"
    rejected = await op(api, "RejectReturn", {"input": {"returnNumber": ret["number"],
                                                        "reason": "NOT_OURS"}},
                        token=tokens["agent"])
    assert rejected["return"]["status"] == "REJECTED"
    assert (await order(api, replacement, tokens["agent"]))["status"] == "CANCELLED"
    again = await op(api, "ReturnEligibility", {"orderNumber": number}, token=tokens["ada"])
    assert again["lines"][0]["returnable"] == 1
    assert await violations(db_url) == []


ORDERS_WITH_RETURNS = """query { orders(first: 50) { edges { node { number
  returns { number status lines { sku } receivingLocation { code } replacementOrderNumber
            refunds { reference } } } } } }"""


async def test_listing_orders_with_their_returns_costs_the_same_for_one_and_for_four(
        api, tokens, clock):
    await seed(api, tokens)
    numbers = [await delivered_order(api, tokens, f"ret-count-{i:03d}",
                                     [{"sku": SHIRT, "quantity": 1}]) for i in range(4)]
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    assert (await op(api, "RequestReturn", request(numbers[0], ONE, resolution="EXCHANGE"),
                     token=tokens["agent"]))["userErrors"] == []
    one = await _count(api, ORDERS_WITH_RETURNS, token=tokens["agent"])
    for i, number in enumerate(numbers[1:]):
        assert (await op(api, "RequestReturn", request(
            number, ONE, resolution=("REFUND", "EXCHANGE")[i % 2]),
            token=tokens["agent"]))["userErrors"] == []
    four = await _count(api, ORDERS_WITH_RETURNS, token=tokens["agent"])
    # count, page ids, 6 aggregate reads, returns ×3 (returns, lines, refunds), locations,
    # and the replacement orders (6 aggregate reads) — once each, however many
    assert one == four == 18
