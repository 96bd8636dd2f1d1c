"""Sourcing through the API: versioned policies, explained decisions, simulations, downtime
and capacity — with the authorization each needs."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio

UPSERT = """mutation($input: SourcingPolicyInput!) { upsertSourcingPolicy(input: $input) {
  policy { channel version strategy maxShipments shipFromStore createdBy
           rules { handling productGroup allowedLocationTypes } shipTogether }
  userErrors { field message code } } }"""
POLICIES = """query($channel: String, $history: Boolean!) {
  sourcingPolicies(channel: $channel, history: $history) { channel version strategy } }"""
DECISION = """query($n: String!) { sourcingDecision(orderNumber: $n) {
  kind strategy policyChannel policyVersion method serviceLevel cost { amount currency }
  co2Grams earliestDelivery latestDelivery
  chosen { location { code } lines { sku quantity } cost { amount } earliestDelivery }
  candidates { location { code } chosen score rejectedBecause notes { sku reason } } } }"""
SIMULATE = """query($input: SimulateSourcingInput!) { simulateSourcing(input: $input) {
  kind strategy policyVersion chosen { location { code } lines { sku quantity } }
  candidates { location { code } rejectedBecause } } }"""
DOWNTIME = """mutation($input: ScheduleDowntimeInput!) { scheduleLocationDowntime(input: $input) {
  downtime { location startsAt endsAt reason } resourced userErrors { field code } } }"""
ROME = {"line1": "Via Nazionale 10", "city": "Roma", "postalCode": "00184", "country": "IT",
        "latitude": 41.90, "longitude": 12.49}


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def upsert(api, token, **fields) -> dict:
    policy = {"channel": "web", "strategy": "LOWEST_COST", **fields}
    return (await api.data(UPSERT, {"input": policy}, token=token))["upsertSourcingPolicy"]


async def place(api, key: str, lines, **kw) -> dict:
    result = await api.data(PLACE, {"input": order_input(key, lines=[
        {"sku": s, "quantity": n} for s, n in lines], **kw)})
    return result["placeOrder"]


# --- policies ---------------------------------------------------------------------------------


async def test_each_upsert_makes_a_new_version_and_orders_record_the_one_in_force(
        network, tokens):
    first = await upsert(network, tokens["admin"], strategy="FASTEST")
    second = await upsert(network, tokens["admin"], strategy="LOWEST_EMISSIONS",
                          maxShipments=2)

    assert (first["policy"]["version"], second["policy"]["version"]) == (1, 2)
    assert second["policy"]["createdBy"] == "admin:admin@example.com"
    current = await network.data(POLICIES, {"channel": None, "history": False},
                                 token=tokens["admin"])
    assert current["sourcingPolicies"] == [{"channel": "web", "version": 2,
                                            "strategy": "LOWEST_EMISSIONS"}]
    history = await network.data(POLICIES, {"channel": "web", "history": True},
                                 token=tokens["admin"])
    assert [p["version"] for p in history["sourcingPolicies"]] == [2, 1]

    placed = await place(network, "policy-order-1", [("TSHIRT-BLU-M", 1)])
    decision = (await network.data(DECISION, {"n": placed["order"]["number"]},
                                   token=tokens["agent"]))["sourcingDecision"]
    assert (decision["policyChannel"], decision["policyVersion"], decision["strategy"]) == (
        "web", 2, "LOWEST_EMISSIONS")


async def test_a_channel_without_its_own_policy_follows_the_star_policy(network, tokens):
    await upsert(network, tokens["admin"], channel="*", strategy="FASTEST")

    placed = await place(network, "star-order-1", [("TSHIRT-BLU-M", 1)])
    decision = (await network.data(DECISION, {"n": placed["order"]["number"]},
                                   token=tokens["agent"]))["sourcingDecision"]

    assert (decision["policyChannel"], decision["policyVersion"]) == ("*", 1)


async def test_without_any_policy_the_built_in_default_decides(network, tokens):
    placed = await place(network, "default-order-1", [("TSHIRT-BLU-M", 2)])
    decision = (await network.data(DECISION, {"n": placed["order"]["number"]},
                                   token=tokens["agent"]))["sourcingDecision"]

    assert decision["kind"] == "PLACEMENT"
    assert (decision["policyChannel"], decision["policyVersion"]) == ("*", 0)
    assert decision["chosen"] == [{"location": {"code": "ST-ROMA"},
                                   "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}],
                                   "cost": {"amount": "5.20"},
                                   "earliestDelivery": "2030-01-03T08:00:00+00:00"}]
    assert decision["cost"] == {"amount": "5.20", "currency": "EUR"}
    assert decision["latestDelivery"] == "2030-01-04T17:00:00+00:00"


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"channel": "telepathy"}, "UNKNOWN_CHANNEL", ["channel"]),
    ({"channel": "marketplace:nowhere"}, "UNKNOWN_CHANNEL", ["channel"]),
    ({"maxShipments": 0}, "INVALID_INPUT", ["maxShipments"]),
    ({"strategy": "BALANCED", "weights": {"cost": 0, "speed": 0, "emissions": 0}},
     "INVALID_INPUT", ["weights"]),
    ({"weights": {"cost": -1}}, "INVALID_INPUT", ["weights", "cost"]),
    ({"rules": [{"allowedLocationTypes": ["WAREHOUSE"]}]}, "INVALID_INPUT", ["rules", "0"]),
    ({"rules": [{"handling": "HAZMAT", "allowedLocationTypes": []}]}, "INVALID_INPUT",
     ["rules", "0", "allowedLocationTypes"]),
    ({"shipTogether": [["furniture"], ["furniture", "lighting"]]}, "INVALID_INPUT",
     ["shipTogether", "1"]),
])
async def test_an_invalid_policy_is_refused_and_no_version_is_made(network, tokens, fields,
                                                                  code, field):
    result = await upsert(network, tokens["admin"], **fields)

    assert result["policy"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [(code, field)]
    listed = await network.data(POLICIES, {"channel": None, "history": True},
                                token=tokens["admin"])
    assert listed["sourcingPolicies"] == []


@pytest.mark.parametrize(("role", "code"), [
    ("anonymous", "UNAUTHENTICATED"), ("ada", "FORBIDDEN"), ("agent", "FORBIDDEN"),
    ("store_roma", "FORBIDDEN"), ("integration", "FORBIDDEN"), ("admin", None)])
async def test_only_admins_manage_policies(network, tokens, role, code):
    written = await upsert(network, tokens.get(role))
    read = await network.post(POLICIES, {"channel": None, "history": False},
                              token=tokens.get(role))

    if code is None:
        assert written["userErrors"] == [] and "errors" not in read
    else:
        assert [e["code"] for e in written["userErrors"]] == [code]
        assert [e["extensions"]["code"] for e in read["errors"]] == [code]


async def test_a_hazmat_rule_splits_a_hazmat_line_off_to_the_warehouse(network, tokens):
    await network.data("""mutation { upsertSkus(input: {skus: [{sku: "POWERBANK", name: "Powerbank",
        productGroup: "electronics", handling: HAZMAT, weightGrams: 300,
        prices: [{amount: "29.00", currency: "EUR"}]}]}) { userErrors { code } } }""",
                       token=tokens["admin"])
    await network.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "POWERBANK", location: "ST-ROMA", onHand: 5},
        {sku: "POWERBANK", location: "WH-MIL", onHand: 5},
        {sku: "TSHIRT-BLU-M", location: "WH-MIL", onHand: 0, safetyStock: 0}]})
        { userErrors { code } } }""",
                       token=tokens["integration"])
    # an eco policy (without the rule, one parcel from the store round the corner would carry
    # everything) in which hazardous goods leave from warehouses only
    await upsert(network, tokens["admin"], strategy="LOWEST_EMISSIONS", rules=[
        {"handling": "HAZMAT", "allowedLocationTypes": ["WAREHOUSE"]}])

    placed = await place(network, "hazmat-order-1",
                         [("TSHIRT-BLU-M", 2), ("POWERBANK", 1)])
    decision = (await network.data(DECISION, {"n": placed["order"]["number"]},
                                   token=tokens["agent"]))["sourcingDecision"]

    assert sorted((c["location"]["code"], [x["sku"] for x in c["lines"]])
                  for c in decision["chosen"]) == [("ST-ROMA", ["TSHIRT-BLU-M"]),
                                                   ("WH-MIL", ["POWERBANK"])]
    store = next(c for c in decision["candidates"] if c["location"]["code"] == "ST-ROMA")
    assert store["notes"] == [{"sku": "POWERBANK", "reason": "LOCATION_TYPE"}]


# --- decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "code"), [
    ("anonymous", "UNAUTHENTICATED"), ("ada", "FORBIDDEN"), ("store_roma", "FORBIDDEN"),
    ("integration", "FORBIDDEN"), ("agent", None), ("admin", None)])
async def test_sourcing_decisions_are_for_agents_and_admins(network, tokens, role, code):
    placed = await place(network, "authz-order-1", [("TSHIRT-BLU-M", 1)])

    result = await network.post(DECISION, {"n": placed["order"]["number"]},
                                token=tokens.get(role))

    if code is None:
        assert result["data"]["sourcingDecision"]["kind"] == "PLACEMENT"
    else:
        assert [e["extensions"]["code"] for e in result["errors"]] == [code]


async def test_an_unknown_order_has_no_decision(network, tokens):
    result = await network.data(DECISION, {"n": "PR-999999"}, token=tokens["agent"])

    assert result == {"sourcingDecision": None}


# --- simulation -------------------------------------------------------------------------------


async def test_a_simulation_explains_without_reserving_or_storing_anything(
        network, tokens, db_url):
    before = await count_rows(db_url, "orders", "inventory_ledger", "sourcing_decisions",
                              "location_load")
    variables = {"input": {"channel": "web", "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}],
                           "address": ROME}}

    result = (await network.data(SIMULATE, variables, token=tokens["agent"]))[
        "simulateSourcing"]

    assert result["kind"] == "SIMULATION" and result["policyVersion"] == 0
    assert result["chosen"] == [{"location": {"code": "ST-ROMA"},
                                 "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}]}]
    assert await count_rows(db_url, "orders", "inventory_ledger", "sourcing_decisions",
                            "location_load") == before


async def test_a_simulation_can_try_an_unsaved_policy(network, tokens):
    variables = {"input": {"channel": "web", "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}],
                           "address": ROME,
                           "policy": {"channel": "web", "strategy": "LOWEST_COST",
                                      "shipFromStore": False}}}

    result = (await network.data(SIMULATE, variables, token=tokens["admin"]))[
        "simulateSourcing"]

    assert result["chosen"][0]["location"] == {"code": "WH-MIL"}
    assert {c["location"]["code"]: c["rejectedBecause"] for c in result["candidates"]} == {
        "WH-MIL": [], "ST-ROMA": ["SHIP_FROM_STORE_DISABLED"]}
    listed = await network.data(POLICIES, {"channel": None, "history": True},
                                token=tokens["admin"])
    assert listed["sourcingPolicies"] == []


@pytest.mark.parametrize("role", ["anonymous", "ada", "store_roma", "integration"])
async def test_simulations_are_for_agents_and_admins(network, tokens, role):
    variables = {"input": {"channel": "web", "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1}],
                           "address": ROME}}

    result = await network.post(SIMULATE, variables, token=tokens.get(role))

    assert [e["extensions"]["code"] for e in result["errors"]] == [
        "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]


async def test_a_simulation_that_cannot_be_sourced_says_why(network, tokens):
    variables = {"input": {"channel": "web", "lines": [{"sku": "LAMP-ARCO", "quantity": 9}],
                           "address": ROME}}

    result = await network.post(SIMULATE, variables, token=tokens["agent"])

    assert [e["extensions"]["code"] for e in result["errors"]] == ["INSUFFICIENT_STOCK"]


# --- downtime and capacity --------------------------------------------------------------------


async def test_downtime_takes_a_location_out_and_moves_its_unaccepted_work(
        network, tokens, db_url):
    placed = await place(network, "downtime-order-1", [("TSHIRT-BLU-M", 2)])
    assert [f["location"]["code"] for f in placed["order"]["fulfillments"]] == ["ST-ROMA"]

    result = (await network.data(DOWNTIME, {"input": {
        "location": "ST-ROMA", "startsAt": "2030-01-02T09:00:00Z",
        "endsAt": "2030-01-03T09:00:00Z", "reason": "flooded stockroom"}},
        token=tokens["store_roma"]))["scheduleLocationDowntime"]

    assert result["userErrors"] == [] and result["resourced"] == 1
    history = await network.data("""query($n: String!) { sourcingDecisions(orderNumber: $n) {
        kind chosen { location { code } } candidates { location { code } rejectedBecause } } }""",
                                 {"n": placed["order"]["number"]}, token=tokens["agent"])
    latest, first = history["sourcingDecisions"]
    assert (latest["kind"], first["kind"]) == ("RESOURCING", "PLACEMENT")
    assert latest["chosen"] == [{"location": {"code": "WH-MIL"}}]
    assert {c["location"]["code"]: c["rejectedBecause"] for c in latest["candidates"]}[
        "ST-ROMA"] == ["EXCLUDED", "DOWNTIME"]
    assert await violations(db_url) == []
    # new orders avoid the store until the window ends
    later = await place(network, "downtime-order-2", [("TSHIRT-BLU-M", 1)])
    assert [f["location"]["code"] for f in later["order"]["fulfillments"]] == ["WH-MIL"]


@pytest.mark.parametrize(("role", "location", "code"), [
    ("store_roma", "WH-MIL", "FORBIDDEN"), ("ada", "ST-ROMA", "FORBIDDEN"),
    ("agent", "ST-ROMA", "FORBIDDEN"), ("anonymous", "ST-ROMA", "UNAUTHENTICATED"),
    ("integration", "NOWHERE", "UNKNOWN_LOCATION"), ("admin", "ST-ROMA", None)])
async def test_who_may_schedule_downtime(network, tokens, role, location, code):
    result = (await network.data(DOWNTIME, {"input": {
        "location": location, "startsAt": "2030-02-01T00:00:00Z",
        "endsAt": "2030-02-02T00:00:00Z", "reason": "inventory"}}, token=tokens.get(role)))[
        "scheduleLocationDowntime"]

    assert [e["code"] for e in result["userErrors"]] == ([] if code is None else [code])


async def test_a_downtime_window_must_end_after_it_starts(network, tokens):
    result = (await network.data(DOWNTIME, {"input": {
        "location": "ST-ROMA", "startsAt": "2030-02-02T00:00:00Z",
        "endsAt": "2030-02-01T00:00:00Z", "reason": "inventory"}}, token=tokens["admin"]))[
        "scheduleLocationDowntime"]

    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("INVALID_INPUT", ["endsAt"])]


async def test_a_store_at_daily_capacity_is_skipped_and_the_decision_says_so(
        network, tokens, db_url):
    await network.data("""mutation { upsertLocations(input: {locations: [{code: "ST-ROMA",
        name: "Roma Via del Corso", type: STORE, address: {line1: "Via del Corso 200",
        city: "Roma", postalCode: "00186", country: "IT", latitude: 41.90, longitude: 12.48},
        capabilities: [SHIP_FROM_STORE, PICKUP], channels: ["web", "store"],
        timeZone: "Europe/Rome", cutoffTime: "17:00", processingHours: 2, dailyCapacity: 2}]})
        { userErrors { code } } }""", token=tokens["admin"])
    numbers = []
    for i in range(3):
        placed = await place(network, f"capacity-order-{i}", [("TSHIRT-BLU-M", 1)])
        numbers.append(placed["order"]["number"])
        assert placed["userErrors"] == []

    third = (await network.data(DECISION, {"n": numbers[2]}, token=tokens["agent"]))[
        "sourcingDecision"]
    assert third["chosen"][0]["location"] == {"code": "WH-MIL"}
    store = next(c for c in third["candidates"] if c["location"]["code"] == "ST-ROMA")
    assert store["rejectedBecause"] == ["CAPACITY"]
    assert (await count_rows(db_url, "location_load"))["location_load"] == 2
    assert await violations(db_url) == []
