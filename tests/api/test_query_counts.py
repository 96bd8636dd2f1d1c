"""No N+1: list reads issue the same number of SQL statements however much they return."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio

ORDERS = """query { orders(first: 50) { totalCount edges { node { number status
  customer { email } lines { sku quantity unitPrice { amount } }
  fulfillments { id status location { code name type } lines { sku quantity } }
  delivery { pickupLocation { code } address { city } } timeline { type message } } } } }"""
AVAILABILITY = """query($skus: [String!]!) { availability(skus: $skus, channel: "web",
  near: {latitude: 41.9, longitude: 12.5}) { sku available
  locations { location { code name } onHand distanceKm } incoming { location { code } } } }"""


async def _place(api, n: int, start: int) -> None:
    for i in range(start, start + n):
        result = await api.data(PLACE, {"input": order_input(
            f"count-key-{i:04d}", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1 + i % 3},
                                         {"sku": "LAMP-ARCO", "quantity": 1}] if i == 0 else
            [{"sku": "TSHIRT-BLU-M", "quantity": 1 + i % 3}])})
        assert result["placeOrder"]["userErrors"] == []


async def _count(api, query: str, variables=None, token=None) -> int:
    seen = statement_counter(api.app.state.db)
    seen.clear()
    await api.data(query, variables, token=token)
    return len([s for s in seen if s.strip().upper() != "BEGIN"])  # SQLite's explicit BEGINs


async def test_orders_page_costs_the_same_for_two_and_for_twelve_orders(api, tokens):
    await seed_contract_network(api, tokens)
    await _place(api, 2, 0)
    few = await _count(api, ORDERS, token=tokens["agent"])
    await _place(api, 10, 2)
    many = await _count(api, ORDERS, token=tokens["agent"])
    assert few == many
    assert many == 10  # count, page ids, 7 aggregate reads (scans, payments), locations


async def test_availability_costs_the_same_for_one_and_for_many_skus(api, tokens):
    await seed_contract_network(api, tokens)
    one = await _count(api, AVAILABILITY, {"skus": ["TSHIRT-BLU-M"]})
    two = await _count(api, AVAILABILITY, {"skus": ["TSHIRT-BLU-M", "LAMP-ARCO", "NOPE"]})
    assert one == two


async def test_place_order_uses_a_handful_of_statements(api, tokens):
    await seed_contract_network(api, tokens)
    seen = statement_counter(api.app.state.db)
    seen.clear()
    await _place(api, 1, 1)
    writes = [s for s in seen if not s.lstrip().upper().startswith(("SELECT", "BEGIN"))]
    # claim key, one reservation, the location's daily capacity, order number (SQLite:
    # counter row; PostgreSQL: a SELECT of nextval), 5 inserts, ledger, sourcing decision,
    # stream counters, outbox
    assert len(writes) <= 13, writes
    statements = [s for s in seen if s.strip().upper() != "BEGIN"]
    # reads, in one transaction: idempotency key, then the snapshot (channel, kit parts,
    # SKUs ×2, locations, levels, receipts, policy, downtime, today's load); SQLite's BEGIN
    # IMMEDIATE; the writes; the response's locations come from the snapshot (no read)
    assert len(statements) <= 25, statements
    assert not any(s.lstrip().upper().startswith("SELECT") for s in seen[-1:]), seen[-1:]


ORDER = """query($n: String!) { order(number: $n) { number status holdReason tags
  notes { text } lines { sku quantity status cancelled unitPrice { amount } }
  fulfillments { id status location { code name } carrier trackingNumber nextStatuses
                 lines { sku quantity } trackingEvents { status at }
                 order { number status } }
  delivery { address { city } pickupLocation { code } }
  timeline { at type message actor actorRole before after } } }"""
QUEUE = """query($l: String!) { fulfillments(location: $l, first: 50) { totalCount
  edges { node { id status location { code } nextStatuses lines { sku quantity }
                 trackingEvents { status } order { number lines { sku } } } } } }"""


async def _ten_location_network(api, tokens) -> list[dict]:
    """Ten warehouses, each the only one to stock five of fifty SKUs."""
    from tests.conftest import load_operations

    ops = load_operations()
    location = {"type": "WAREHOUSE", "capabilities": ["SHIP"], "channels": ["web"],
                "timeZone": "Europe/Rome", "cutoffTime": "15:00", "processingHours": 4,
                "dailyCapacity": 5000}
    locations = [{**location, "code": f"WH-{i:02d}", "name": f"Warehouse {i}", "address": {
        "line1": f"Via {i}", "city": "Milano", "postalCode": "20141", "country": "IT",
        "latitude": 45.4 + i / 100, "longitude": 9.2}} for i in range(10)]
    skus = [{"sku": f"PART-{i:02d}", "name": f"Part {i}", "productGroup": "parts",
             "handling": "STANDARD", "weightGrams": 100,
             "prices": [{"amount": "1.00", "currency": "EUR"}]} for i in range(50)]
    for name, payload in (("UpsertLocations", {"locations": locations}),
                          ("UpsertSkus", {"skus": skus})):
        done = await api.data(ops[name], {"input": payload}, token=tokens["admin"])
        assert next(iter(done.values()))["userErrors"] == []
    levels = ", ".join(f'{{sku: "PART-{i:02d}", location: "WH-{i // 5:02d}", onHand: 10}}'
                       for i in range(50))
    await api.data(f'mutation {{ setInventory(input: {{levels: [{levels}]}}) '
                   f'{{ userErrors {{ code }} }} }}', token=tokens["admin"])
    return [{"sku": f"PART-{i:02d}", "quantity": 1} for i in range(50)]


async def test_an_order_of_ten_fulfillments_and_fifty_lines_costs_what_a_small_one_costs(
        api, tokens):
    await seed_contract_network(api, tokens)
    big_lines = await _ten_location_network(api, tokens)
    small = (await api.data(PLACE, {"input": order_input("count-small-01")}))["placeOrder"]
    big = (await api.data(PLACE, {"input": order_input("count-big-0001", lines=big_lines)}))[
        "placeOrder"]
    assert big["userErrors"] == [] and len(big["order"]["fulfillments"]) == 10
    for number in (small["order"]["number"], big["order"]["number"]):
        for name in ("acceptFulfillment", "pickFulfillment"):  # some timeline to read too
            got = await api.data(ORDER, {"n": number}, token=tokens["agent"])
            fid = got["order"]["fulfillments"][0]["id"]
            await api.data(f'mutation {{ {name}(input: {{fulfillmentId: "{fid}"}}) '
                           f'{{ userErrors {{ code }} }} }}', token=tokens["admin"])

    few = await _count(api, ORDER, {"n": small["order"]["number"]}, token=tokens["agent"])
    many = await _count(api, ORDER, {"n": big["order"]["number"]}, token=tokens["agent"])

    assert few == many == 8  # 7 aggregate reads, one batched location read


async def test_a_work_queue_page_costs_the_same_for_two_and_for_twelve_fulfillments(
        api, tokens):
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 100}]}) { userErrors { code } } }""",
                   token=tokens["admin"])

    async def place(first: int, n: int) -> None:
        for i in range(first, first + n):
            result = await api.data(PLACE, {"input": order_input(
                f"queue-count-{i:03d}", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1}])})
            assert result["placeOrder"]["order"]["fulfillments"][0]["location"] == {
                "code": "ST-ROMA"}

    await place(0, 2)
    few = await _count(api, QUEUE, {"l": "ST-ROMA"}, token=tokens["store_roma"])
    await place(2, 10)
    page = await api.data(QUEUE, {"l": "ST-ROMA"}, token=tokens["store_roma"])
    many = await _count(api, QUEUE, {"l": "ST-ROMA"}, token=tokens["store_roma"])

    assert page["fulfillments"]["totalCount"] == len(page["fulfillments"]["edges"]) == 12
    assert few == many == 12  # count, page, lines, scans, 7 order reads, locations


DECISION = """query($n: String!) { sourcingDecision(orderNumber: $n) { strategy
  chosen { location { code name } transferTo { code } lines { sku quantity } }
  candidates { location { code name type } score rejectedBecause notes { sku reason } } } }"""
PROMISE = """query($input: DeliveryPromiseInput!) { deliveryPromise(input: $input) {
  options { id method pickupLocation { code name } lines { sku availableOn } } } }"""


async def _more_stores(api, tokens, count: int) -> None:
    stores = ", ".join(
        f'{{code: "ST-ROMA-{i}", name: "Roma {i}", type: STORE, address: {{line1: "Via {i}", '
        f'city: "Roma", postalCode: "00184", country: "IT", latitude: 41.9{i}, '
        f'longitude: 12.4{i}}}, capabilities: [SHIP_FROM_STORE, PICKUP], channels: ["web"]}}'
        for i in range(count))
    result = await api.data(f"mutation {{ upsertLocations(input: {{locations: [{stores}]}}) "
                            "{ userErrors { code } } }", token=tokens["admin"])
    assert result["upsertLocations"]["userErrors"] == []
    levels = ", ".join(f'{{sku: "TSHIRT-BLU-M", location: "ST-ROMA-{i}", onHand: 1}}'
                       for i in range(count))
    await api.data(f'mutation {{ setInventory(input: {{reason: "COUNT", levels: [{levels}]}}) '
                   "{ userErrors { code } } }", token=tokens["integration"])


async def test_sourcing_decision_costs_the_same_for_two_and_for_eight_candidates(
        api, tokens, clock):
    await seed_contract_network(api, tokens)
    await _place(api, 1, 1)
    few = await _count(api, DECISION, {"n": await _latest(api, tokens)}, token=tokens["agent"])
    await _more_stores(api, tokens, 6)
    clock.current += timedelta(minutes=1)  # the newest order is the one with 8 candidates
    await _place(api, 1, 2)
    number = await _latest(api, tokens)
    many = await _count(api, DECISION, {"n": number}, token=tokens["agent"])
    assert few == many == 2  # the decisions, one batched location read
    found = await api.data(DECISION, {"n": number}, token=tokens["agent"])
    assert len(found["sourcingDecision"]["candidates"]) == 8


async def _latest(api, tokens) -> str:
    found = await api.data("query { orders(first: 1) { edges { node { number } } } }",
                           token=tokens["agent"])
    number = found["orders"]["edges"][0]["node"]["number"]
    decision = await api.data("query($n: String!) { sourcingDecision(orderNumber: $n) { "
                              "candidates { rejectedBecause } } }", {"n": number},
                              token=tokens["agent"])
    assert decision["sourcingDecision"] is not None
    return number


async def test_delivery_promise_costs_the_same_for_one_and_for_three_pickup_stores(api, tokens):
    await seed_contract_network(api, tokens)
    variables = {"input": {"channel": "web", "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1}],
                           "destination": {"line1": "Via Nazionale 10", "city": "Roma",
                                           "postalCode": "00184", "country": "IT",
                                           "latitude": 41.90, "longitude": 12.49}}}
    one = await _count(api, PROMISE, variables)
    await _more_stores(api, tokens, 4)
    three = await _count(api, PROMISE, variables)
    found = (await api.data(PROMISE, variables))["deliveryPromise"]["options"]
    assert len([o for o in found if o["method"] == "PICKUP"]) == 3
    assert one == three == 11  # the snapshot (10 reads), one batched location read


async def test_sourcing_policies_are_one_read(api, tokens):
    for strategy in ("FASTEST", "LOWEST_COST"):
        for channel in ("web", "store", "*"):
            await api.data("""mutation($input: SourcingPolicyInput!) {
                upsertSourcingPolicy(input: $input) { userErrors { code } } }""",
                           {"input": {"channel": channel, "strategy": strategy}},
                           token=tokens["admin"])
    assert await _count(api, "query { sourcingPolicies(history: true) { version } }",
                        token=tokens["admin"]) == 1


async def test_the_webhook_renderer_reads_a_batch_of_orders_at_once(api, tokens):
    """Webhook and broker messages carry each order as an integration sees it, rendered
    through the schema (api/integration/views.py); a batch of orders is one set of reads."""
    from api.integration.views import OrderViews

    await seed_contract_network(api, tokens)
    await _place(api, 12, 0)
    numbers = [f"PR-{i:06d}" for i in range(1, 13)]
    views = OrderViews(api.app.state.deps)
    seen = statement_counter(api.app.state.db)

    async def reads(wanted: list[str]) -> int:
        seen.clear()
        rendered = await views.orders(wanted)
        assert sorted(n for n, o in rendered.items() if o and o["number"] == n) == wanted
        return len([s for s in seen if s.strip().upper() != "BEGIN"])

    assert await reads(numbers[:2]) == await reads(numbers)
