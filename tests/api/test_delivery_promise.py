"""deliveryPromise, and checkout with a chosen option: honoured, expired, no longer available."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio

PROMISE = """
query($input: DeliveryPromiseInput!) { deliveryPromise(input: $input) {
  options { id method serviceLevel pickupLocation { code } shipments earliestDelivery
            latestDelivery cost { amount currency } co2Grams expiresAt
            lines { sku quantity availableOn } }
  unavailable { sku quantity code } } }"""
PLACED = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { number status promisedDelivery { earliest latest }
          lines { sku quantity status backordered }
          fulfillments { location { code } transferTo { code } lines { sku quantity } } }
  userErrors { field message code } } }"""
DECISION = """query($n: String!) { sourcingDecision(orderNumber: $n) { kind
  chosen { location { code } } candidates { location { code } rejectedBecause } } }"""
ROME = {"line1": "Via Nazionale 10", "city": "Roma", "postalCode": "00184", "country": "IT",
        "latitude": 41.90, "longitude": 12.49}


def cart(*lines: tuple[str, int], destination: dict = ROME) -> dict:
    return {"input": {"channel": "web", "destination": destination,
                      "lines": [{"sku": s, "quantity": n} for s, n in lines]}}


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def options(api, *lines: tuple[str, int]) -> dict[tuple, dict]:
    found = (await api.data(PROMISE, cart(*lines)))["deliveryPromise"]
    return {(o["method"], o["serviceLevel"]): o for o in found["options"]}


def checkout(option: dict, lines: list[tuple[str, int]], key: str = "promise-key-0001",
             **delivery) -> dict:
    chosen = {"method": option["method"], "promiseOptionId": option["id"]}
    if option["method"] == "SHIP":
        chosen["address"] = ROME
    else:
        chosen["pickupLocation"] = option["pickupLocation"]["code"]
    chosen.update(delivery)
    return order_input(key, lines=[{"sku": s, "quantity": n} for s, n in lines],
                       delivery=chosen)


async def place(api, variables) -> dict:
    return (await api.data(PLACED, {"input": variables}))["placeOrder"]


async def test_a_cart_near_a_store_can_arrive_the_same_day(network):
    found = await options(network, ("TSHIRT-BLU-M", 2))

    # soonest first: ready at the store at 12:30, at the door by 21:00, tomorrow, the day after
    assert list(found) == [("PICKUP", None), ("SHIP", "SAME_DAY"), ("SHIP", "EXPRESS"),
                           ("SHIP", "STANDARD")]
    same_day = found[("SHIP", "SAME_DAY")]
    # 10:30 in Rome + 2 h at the store, then a courier until 21:00
    assert (same_day["earliestDelivery"], same_day["latestDelivery"]) == (
        "2030-01-02T12:30:00+00:00", "2030-01-02T20:00:00+00:00")
    assert same_day["cost"] == {"amount": "14.90", "currency": "EUR"}
    pickup = found[("PICKUP", None)]
    assert pickup["pickupLocation"] == {"code": "ST-ROMA"}
    assert pickup["earliestDelivery"] == pickup["latestDelivery"] == "2030-01-02T11:30:00+00:00"
    assert pickup["co2Grams"] == 0 and pickup["shipments"] == 1


async def test_no_ship_option_of_a_200_g_parcel_from_the_store_round_the_corner_is_0_g(
        network):
    # one T-shirt (200 g) from ST-ROMA, under a kilometre from the destination
    found = await options(network, ("TSHIRT-BLU-M", 1))

    shipped = {level: o["co2Grams"] for (method, level), o in found.items() if method == "SHIP"}
    # the van's last-mile drop (181 g) and 200 g × 0.83 km of line haul (a few milligrams)
    assert shipped == {"SAME_DAY": 181, "EXPRESS": 181, "STANDARD": 181}
    assert found[("PICKUP", None)]["co2Grams"] == 0  # collected where it is: no carrier


async def test_after_the_store_s_cut_off_same_day_disappears_and_dates_move(network, clock):
    clock.current += timedelta(hours=6, minutes=35)  # 17:05 in Rome, after the 17:00 cut-off

    found = await options(network, ("TSHIRT-BLU-M", 2))

    assert ("SHIP", "SAME_DAY") not in found
    assert found[("PICKUP", None)]["earliestDelivery"] == "2030-01-03T10:00:00+00:00"


async def test_backordered_units_are_promised_for_when_their_receipt_lands(network, tokens):
    await network.data("""mutation { expectIncoming(input: {sku: "LAMP-ARCO", location: "WH-MIL",
        quantity: 10, expectedAt: "2030-01-15T09:00:00+01:00"}) { userErrors { code } } }""",
                       token=tokens["integration"])

    standard = (await options(network, ("LAMP-ARCO", 3)))[("SHIP", "STANDARD")]

    assert standard["lines"] == [
        {"sku": "LAMP-ARCO", "quantity": 1, "availableOn": "2030-01-02T09:30:00+00:00"},
        {"sku": "LAMP-ARCO", "quantity": 2, "availableOn": "2030-01-15T08:00:00+00:00"}]
    # received Tuesday 15th, dispatched at the 15:00 cut-off, 2-3 carrier days
    assert standard["latestDelivery"] == "2030-01-18T17:00:00+00:00"
    assert standard["shipments"] == 2

    placed = await place(network, checkout(standard, [("LAMP-ARCO", 3)]))
    assert placed["userErrors"] == []
    assert placed["order"]["lines"] == [{"sku": "LAMP-ARCO", "quantity": 3,
                                         "status": "PARTIALLY_ALLOCATED", "backordered": 2}]
    assert placed["order"]["promisedDelivery"]["latest"] == "2030-01-18T17:00:00+00:00"


async def test_a_cart_the_network_cannot_supply_has_no_options_and_says_which_line(network):
    found = (await network.data(PROMISE, cart(("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 5))))[
        "deliveryPromise"]

    assert found == {"options": [], "unavailable": [
        {"sku": "LAMP-ARCO", "quantity": 5, "code": "INSUFFICIENT_STOCK"}]}


@pytest.mark.parametrize(("variables", "code"), [
    (cart(("NOPE", 1)), "UNKNOWN_SKU"),
    (cart(("TSHIRT-BLU-M", 0)), "INVALID_QUANTITY"),
    (cart(("TSHIRT-BLU-M", 1), destination={**ROME, "postalCode": "ROMA"}), "INVALID_ADDRESS"),
    ({"input": {**cart(("TSHIRT-BLU-M", 1))["input"], "channel": "telepathy"}},
     "UNKNOWN_CHANNEL"),
    ({"input": {**cart(("TSHIRT-BLU-M", 1))["input"], "currency": "USD"}},
     "UNSUPPORTED_CURRENCY"),
])
async def test_a_malformed_promise_request_is_refused_with_a_code(network, variables, code):
    result = await network.post(PROMISE, variables)

    assert [e["extensions"]["code"] for e in result["errors"]] == [code]


# --- checkout with a promise ------------------------------------------------------------------


async def test_the_order_is_sourced_exactly_as_promised_even_if_the_engine_now_prefers_another(
        network, tokens, db_url):
    # given a promise: one parcel from Milan for the T-shirts and the lamp
    standard = (await options(network, ("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 1)))[
        ("SHIP", "STANDARD")]
    # when Rome receives a lamp (the engine would now ship everything from Rome)
    await network.data("""mutation { setInventory(input: {reason: "RECEIPT", levels: [
        {sku: "LAMP-ARCO", location: "ST-ROMA", onHand: 1}]}) { userErrors { code } } }""",
                       token=tokens["integration"])
    fresh = (await options(network, ("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 1)))[
        ("SHIP", "STANDARD")]
    assert fresh["shipments"] == 1 and fresh["co2Grams"] < standard["co2Grams"]

    placed = await place(network, checkout(standard, [("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 1)]))

    # then the promise is kept: Milan, with the window promised
    assert placed["userErrors"] == []
    order = placed["order"]
    assert [f["location"]["code"] for f in order["fulfillments"]] == ["WH-MIL"]
    assert order["promisedDelivery"] == {"earliest": standard["earliestDelivery"],
                                         "latest": standard["latestDelivery"]}
    decision = (await network.data(DECISION, {"n": order["number"]}, token=tokens["agent"]))[
        "sourcingDecision"]
    assert decision["chosen"] == [{"location": {"code": "WH-MIL"}}]
    assert {c["location"]["code"]: c["rejectedBecause"] for c in decision["candidates"]} == {
        "WH-MIL": [], "ST-ROMA": ["PROMISED_ELSEWHERE"]}
    assert await violations(db_url) == []


async def test_a_pickup_promise_transfers_what_the_store_lacks(network):
    pickup = (await options(network, ("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 1)))[("PICKUP", None)]

    placed = await place(network, checkout(pickup, [("TSHIRT-BLU-M", 2), ("LAMP-ARCO", 1)]))

    assert placed["userErrors"] == []
    assert sorted((f["location"]["code"], (f["transferTo"] or {}).get("code"))
                  for f in placed["order"]["fulfillments"]) == [("ST-ROMA", None),
                                                                ("WH-MIL", "ST-ROMA")]


async def test_an_expired_promise_is_refused_and_nothing_is_reserved(network, clock, db_url):
    standard = (await options(network, ("TSHIRT-BLU-M", 2)))[("SHIP", "STANDARD")]
    clock.current += timedelta(minutes=31)

    placed = await place(network, checkout(standard, [("TSHIRT-BLU-M", 2)]))

    assert placed["order"] is None
    assert [(e["code"], e["field"]) for e in placed["userErrors"]] == [
        ("PROMISE_EXPIRED", ["delivery", "promiseOptionId"])]
    assert await violations(db_url) == []


async def test_a_promise_expires_at_the_cut_off_it_counted_on(network, clock):
    clock.current += timedelta(hours=4, minutes=20)  # 14:50 in Rome; Milan's cut-off is 15:00
    standard = (await options(network, ("LAMP-ARCO", 1)))[("SHIP", "STANDARD")]
    assert standard["expiresAt"] == "2030-01-02T14:00:00+00:00"

    clock.current += timedelta(minutes=11)
    placed = await place(network, checkout(standard, [("LAMP-ARCO", 1)]))

    assert [e["code"] for e in placed["userErrors"]] == ["PROMISE_EXPIRED"]


async def test_a_promise_whose_stock_was_sold_meanwhile_is_no_longer_available(
        network, tokens, db_url):
    standard = (await options(network, ("LAMP-ARCO", 1)))[("SHIP", "STANDARD")]
    taken = await place(network, order_input("someone-else-1", lines=[
        {"sku": "LAMP-ARCO", "quantity": 1}]))
    assert taken["userErrors"] == []

    mine = checkout(standard, [("LAMP-ARCO", 1)], key="promise-key-0002")
    placed = await place(network, mine)

    assert placed["order"] is None
    assert [e["code"] for e in placed["userErrors"]] == ["PROMISE_NO_LONGER_AVAILABLE"]
    assert await violations(db_url) == []
    # the key is not spent: once Milan has a lamp again, the very same request succeeds
    await network.data("""mutation { setInventory(input: {reason: "RECEIPT", levels: [
        {sku: "LAMP-ARCO", location: "WH-MIL", onHand: 3}]}) { userErrors { code } } }""",
                       token=tokens["integration"])
    again = await place(network, copy.deepcopy(mine))
    assert again["userErrors"] == [] and again["order"]["status"] == "ALLOCATED"


async def test_a_promise_from_a_location_now_in_downtime_is_no_longer_available(network, tokens):
    standard = (await options(network, ("LAMP-ARCO", 1)))[("SHIP", "STANDARD")]
    down = await network.data("""mutation { scheduleLocationDowntime(input: {location: "WH-MIL",
        startsAt: "2030-01-02T09:00:00Z", endsAt: "2030-01-02T18:00:00Z", reason: "power cut"})
        { userErrors { code } } }""", token=tokens["admin"])
    assert down["scheduleLocationDowntime"]["userErrors"] == []

    placed = await place(network, checkout(standard, [("LAMP-ARCO", 1)]))

    assert [e["code"] for e in placed["userErrors"]] == ["PROMISE_NO_LONGER_AVAILABLE"]
    assert "DOWNTIME" in placed["userErrors"][0]["message"]


@pytest.mark.parametrize(("change", "code"), [
    ({"lines": [("TSHIRT-BLU-M", 3)]}, "PROMISE_MISMATCH"),
    ({"delivery": {"serviceLevel": "EXPRESS"}}, "PROMISE_MISMATCH"),
    ({"delivery": {"address": {**ROME, "line1": "Via Appia 1"}}}, "PROMISE_MISMATCH"),
    ({"tamper": True}, "PROMISE_INVALID"),
])
async def test_a_promise_for_another_cart_or_a_forged_one_is_refused(network, change, code):
    standard = (await options(network, ("TSHIRT-BLU-M", 2)))[("SHIP", "STANDARD")]
    if change.get("tamper"):
        head, body, tag = standard["id"].split(".")
        standard = {**standard, "id": f"{head}.{body[:-2]}{'AB' if body[-2:] != 'AB' else 'CD'}"
                                      f".{tag}"}
    variables = checkout(standard, change.get("lines", [("TSHIRT-BLU-M", 2)]),
                         **change.get("delivery", {}))

    placed = await place(network, variables)

    assert [e["code"] for e in placed["userErrors"]] == [code]


async def test_checkout_with_a_promise_is_idempotent_like_any_other(network):
    standard = (await options(network, ("TSHIRT-BLU-M", 2)))[("SHIP", "STANDARD")]
    variables = checkout(standard, [("TSHIRT-BLU-M", 2)])

    first = await network.data(PLACE, {"input": variables})
    again = await network.data(PLACE, {"input": variables})

    assert first == again and first["placeOrder"]["userErrors"] == []


@pytest.mark.parametrize("role", ["anonymous", "ada", "agent", "store_roma", "integration",
                                  "admin"])
async def test_anyone_may_ask_for_a_delivery_promise(network, tokens, role):
    result = await network.post(PROMISE, cart(("TSHIRT-BLU-M", 1)), token=tokens.get(role))

    assert "errors" not in result
    assert len(result["data"]["deliveryPromise"]["options"]) == 4
