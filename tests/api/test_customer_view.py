"""customer(email): an agent's view of a customer — orders, lifetime figures, open problems."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.lifecycle import clock_at, desk, fulfillment_ids, place, step
from tests.api.test_query_counts import _count
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
CUSTOMER = """query($e: String!) { customer(email: $e) { email name orderCount cancelledOrders
  lifetimeValue { amount currency } openProblems { orderNumber kind since detail }
  orders(first: 10) { totalCount edges { node { number status } } } } }"""


async def _ada_with_troubles(api, tokens) -> list[str]:
    """Four orders of Ada: fine, cancelled, rejected with nowhere else to go (so held),
    failed delivery."""
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 50}]}) { userErrors { code } } }""",
                   token=tokens["integration"])
    numbers = [(await place(api, f"customer-view-{i}"))["number"] for i in range(4)]
    await desk(api, "cancelOrder", tokens["agent"], number=numbers[1], reason="DUPLICATE")
    store = tokens["store_roma"]
    rejected = (await fulfillment_ids(api, numbers[2], store))["ST-ROMA"]
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "WH-MIL", onHand: 0, safetyStock: 0}]})
        { userErrors { code } } }""",
                   token=tokens["integration"])  # so nobody else can take the rejected work
    await step(api, "rejectFulfillment", rejected, store, reason="ITEM_NOT_FOUND")
    failed = (await fulfillment_ids(api, numbers[3], store))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        await step(api, name, failed, store)
    await step(api, "shipFulfillment", failed, store, carrier="BRT", trackingNumber="BRT7")
    clock_at(api, "2030-01-03T12:00:00+01:00")  # the next day, the carrier reports
    await step(api, "recordTrackingEvent", failed, tokens["integration"],
               status="DELIVERY_FAILED", at="2030-01-03T12:00:00+01:00",
               description="nobody home")
    await place(api, "someone-else-1", customer={"email": "bob@example.com", "name": "Bob"})
    return numbers


async def test_an_agent_sees_a_customers_orders_value_and_problems(api, tokens):
    numbers = await _ada_with_troubles(api, tokens)

    found = (await api.data(CUSTOMER, {"e": " ADA@example.com"}, token=tokens["agent"]))[
        "customer"]

    assert (found["email"], found["name"], found["orderCount"], found["cancelledOrders"]) == (
        "ada@example.com", "Ada Lovelace", 4, 1)
    assert found["lifetimeValue"] == [{"amount": "134.10", "currency": "EUR"}]  # 3 × 44.70
    assert found["openProblems"] == [
        {"orderNumber": numbers[2], "kind": "ON_HOLD", "since": "2030-01-02T09:30:00+00:00",
         "detail": "ST-ROMA rejected: ITEM_NOT_FOUND; no other location can supply "
                   "2 × TSHIRT-BLU-M"},
        {"orderNumber": numbers[2], "kind": "UNALLOCATED", "since": "2030-01-02T09:30:00+00:00",
         "detail": "2 units without a location (ST-ROMA: ITEM_NOT_FOUND)"},
        {"orderNumber": numbers[3], "kind": "DELIVERY_FAILED",
         "since": "2030-01-03T11:00:00+00:00", "detail": "BRT BRT7: nobody home"}]
    assert found["orders"]["totalCount"] == 4
    assert {e["node"]["number"] for e in found["orders"]["edges"]} == set(numbers)
    assert (await api.data(CUSTOMER, {"e": "nobody@example.com"}, token=tokens["agent"])) == {
        "customer": None}


@pytest.mark.parametrize(("role", "code"), [
    ("anonymous", "UNAUTHENTICATED"), ("ada", "FORBIDDEN"), ("store_roma", "FORBIDDEN"),
    ("integration", "FORBIDDEN"), ("admin", None)])
async def test_only_agents_and_admins_look_customers_up(api, tokens, role, code):
    await seed_contract_network(api, tokens)
    await place(api, "customer-auth-1")
    result = await api.post(CUSTOMER, {"e": "ada@example.com"}, token=tokens.get(role))
    if code is None:
        assert result["data"]["customer"]["orderCount"] == 1
    else:
        assert result["data"] == {"customer": None}
        assert [e["extensions"]["code"] for e in result["errors"]] == [code]


async def test_the_customer_view_costs_the_same_for_few_and_many_orders(api, tokens):
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 50}]}) { userErrors { code } } }""",
                   token=tokens["integration"])

    async def rejected_orders(first: int, n: int) -> None:
        for i in range(first, first + n):
            number = (await place(api, f"customer-count-{i}"))["number"]
            fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
            await step(api, "rejectFulfillment", fid, tokens["store_roma"], reason="DAMAGED")
            await place(api, f"customer-fine-{i}")

    await rejected_orders(0, 1)
    few = await _count(api, CUSTOMER, {"e": "ada@example.com"}, token=tokens["agent"])
    await rejected_orders(1, 4)
    many = await _count(api, CUSTOMER, {"e": "ada@example.com"}, token=tokens["agent"])
    # sums, name, 6 reads of the orders in trouble, count and page of the orders, their 6 reads
    assert few == many == 18


async def test_orders_past_their_promised_latest_date_and_not_delivered_are_late(
        api, tokens, clock):
    numbers = await _ada_with_troubles(api, tokens)
    delivered = (await place(api, "customer-view-delivered"))["number"]
    fid = (await fulfillment_ids(api, delivered, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        await step(api, name, fid, tokens["store_roma"])
    await step(api, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
               trackingNumber="BRT8")
    await step(api, "recordTrackingEvent", fid, tokens["integration"], status="DELIVERED",
               at="2030-01-03T12:00:00+01:00")
    on_time = await api.data(CUSTOMER, {"e": "ada@example.com"}, token=tokens["agent"])

    clock.current = datetime(2030, 1, 4, 17, 0, 1, tzinfo=UTC)  # a second past the promise
    found = (await api.data(CUSTOMER, {"e": "ada@example.com"}, token=tokens["agent"]))[
        "customer"]["openProblems"]

    assert "LATE" not in {p["kind"] for p in on_time["customer"]["openProblems"]}
    late = [(p["orderNumber"], p["since"], p["detail"]) for p in found if p["kind"] == "LATE"]
    # the fine one, the held one and the failed delivery; not the cancelled or delivered one
    assert late == [
        (numbers[0], "2030-01-04T17:00:00+00:00",
         "promised by 2030-01-04T17:00:00+00:00, still ALLOCATED"),
        (numbers[2], "2030-01-04T17:00:00+00:00",
         "promised by 2030-01-04T17:00:00+00:00, still ON_HOLD"),
        (numbers[3], "2030-01-04T17:00:00+00:00",
         "promised by 2030-01-04T17:00:00+00:00, still SHIPPED")]
    assert len(found) == 6  # and the three problems seen before, oldest first
    assert [p["kind"] for p in found[:3]] == ["ON_HOLD", "UNALLOCATED", "DELIVERY_FAILED"]
