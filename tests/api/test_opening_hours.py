"""Opening hours end to end, on both engines (issue 16 item 4): the demo network keeps shop
hours, so a cart at 01:59 in Rome is no longer promised ready at 05:59; the store's hours are
shown with the promise and on the tracking view; hours are saved, validated and removed with
`upsertLocations`; a location that never opens promises nothing and says CLOSED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from api import demo_data
from api.app import create_app
from tests.api.test_delivery_promise import ROME, cart, checkout
from tests.conftest import Api, FixedClock, make_settings

pytestmark = pytest.mark.anyio

NIGHT = datetime(2030, 1, 2, 0, 59, tzinfo=UTC)  # Wednesday 01:59 in Rome
HOURS = """openingHours { weekly { day opens closes } exceptions { date closed periods {
  opens closes } } upcoming(days: 7) { date weekday closed exception periods { opens closes } }
  openNow nextOpening }"""
PROMISE = """query($input: DeliveryPromiseInput!) { deliveryPromise(input: $input) {
  options { id method serviceLevel earliestDelivery latestDelivery
            pickupLocation { code timeZone HOURS } } } }""".replace("HOURS", HOURS)
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { number } userErrors { field message code } } }"""
TRACK = """query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) {
  readyBy pickupStore { code HOURS } } }""".replace("HOURS", HOURS)
UPSERT = """mutation($input: UpsertLocationsInput!) { upsertLocations(input: $input) {
  locations { code openingHours { weekly { day opens closes } exceptions { date closed } } }
  userErrors { field message code } } }"""
SIMULATE = """query($input: SimulateSourcingInput!) { simulateSourcing(input: $input) {
  chosen { location { code } } candidates { location { code } rejectedBecause } } }"""


def _in_store(code: str) -> str:
    """A SKU the demo stocks at `code` (the demo data is deterministic)."""
    return next(x["sku"] for x in demo_data.inventory()
                if x["location"] == code and x["onHand"] - (x.get("safetyStock") or 0) >= 2
                and x["sku"].startswith("TSHIRT"))


@pytest.fixture
async def demo(db_url: str, clock: FixedClock) -> AsyncIterator[Api]:
    clock.current = NIGHT
    app = create_app(make_settings(db_url, demo=True), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Api(client, app)


async def _options(api: Api, sku: str) -> dict[tuple, dict]:
    found = (await api.data(PROMISE, cart((sku, 1))))["deliveryPromise"]["options"]
    return {(o["method"], o["serviceLevel"], (o["pickupLocation"] or {}).get("code")): o
            for o in found}


async def test_at_0159_in_rome_the_demo_promises_nothing_before_the_store_opens(demo):
    """The regression of issue 16 item 4: pickup 'ready' at 05:59, SAME_DAY by 06:59."""
    sku = _in_store("ST-ROMA")

    found = await _options(demo, sku)

    pickup = found[("PICKUP", None, "ST-ROMA")]
    # opens 09:30, 4 hours to prepare: ready at 13:30 in Rome (not 05:59)
    assert pickup["earliestDelivery"] == pickup["latestDelivery"] == "2030-01-02T12:30:00+00:00"
    same_day = found[("SHIP", "SAME_DAY", None)]
    # leaves ST-ROMA when the work is done (13:30), at the door from 14:30 (not 06:59)
    assert (same_day["earliestDelivery"], same_day["latestDelivery"]) == (
        "2030-01-02T13:30:00+00:00", "2030-01-02T20:00:00+00:00")
    opens = datetime(2030, 1, 2, 8, 30, tzinfo=UTC)  # 09:30 in Rome
    assert all(datetime.fromisoformat(o["earliestDelivery"]) > opens for o in found.values())


async def test_the_promise_shows_the_pickup_store_s_hours(demo):
    found = await _options(demo, _in_store("ST-ROMA"))

    store = found[("PICKUP", None, "ST-ROMA")]["pickupLocation"]
    hours = store["openingHours"]
    assert store["timeZone"] == "Europe/Rome"
    assert hours["weekly"][:2] == [{"day": "MONDAY", "opens": "09:30", "closes": "19:30"},
                                   {"day": "TUESDAY", "opens": "09:30", "closes": "19:30"}]
    assert {p["day"] for p in hours["weekly"]} == {
        "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}
    assert {"date": "2030-12-25", "closed": True, "periods": []} in hours["exceptions"]
    assert [(d["date"], d["weekday"], d["closed"]) for d in hours["upcoming"]][:6] == [
        ("2030-01-02", "WEDNESDAY", False), ("2030-01-03", "THURSDAY", False),
        ("2030-01-04", "FRIDAY", False), ("2030-01-05", "SATURDAY", False),
        ("2030-01-06", "SUNDAY", True), ("2030-01-07", "MONDAY", False)]
    assert hours["upcoming"][4]["exception"]  # 6 January: Epiphany, a holiday anyway
    assert hours["upcoming"][0]["periods"] == [{"opens": "09:30", "closes": "19:30"}]
    assert hours["openNow"] is False
    assert hours["nextOpening"] == "2030-01-02T08:30:00+00:00"


async def test_the_tracking_view_shows_when_and_where_to_collect(demo):
    found = await _options(demo, sku := _in_store("ST-ROMA"))
    option = found[("PICKUP", None, "ST-ROMA")]
    option["pickupLocation"] = {"code": "ST-ROMA"}

    placed = (await demo.data(PLACE, {"input": checkout(option, [(sku, 1)])}))["placeOrder"]
    assert placed["userErrors"] == []
    tracked = (await demo.data(TRACK, {"n": placed["order"]["number"],
                                       "e": "ada@example.com"}))["trackOrder"]

    assert tracked["readyBy"] == "2030-01-02T12:30:00+00:00"
    assert tracked["pickupStore"]["code"] == "ST-ROMA"
    assert tracked["pickupStore"]["openingHours"]["upcoming"][0]["periods"] == [
        {"opens": "09:30", "closes": "19:30"}]


def _roma(**changes) -> dict:
    x = next(loc for loc in demo_data.locations() if loc["code"] == "ST-ROMA")
    return {**x, **changes}


async def test_hours_are_saved_validated_and_removed_with_upsert_locations(demo, tokens):
    async def upsert(**changes) -> dict:
        return (await demo.data(UPSERT, {"input": {"locations": [_roma(**changes)]}},
                                token=tokens["admin"]))["upsertLocations"]

    bad = await upsert(openingHours={"weekly": [
        {"day": "MONDAY", "opens": "09:00", "closes": "13:00"},
        {"day": "MONDAY", "opens": "12:00", "closes": "19:00"}]})
    assert bad["locations"] == []
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("INVALID_INPUT", ["locations", "0", "openingHours", "weekly", "1"])]
    bad = await upsert(openingHours={"weekly": [], "exceptions": [
        {"date": "2030-01-02", "periods": [{"opens": "25:00", "closes": "26:00"}]}]})
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("INVALID_INPUT", ["locations", "0", "openingHours", "exceptions", "0", "periods", "0",
                           "opens"])]

    saved = await upsert(openingHours={
        "weekly": [{"day": "SUNDAY", "opens": "10:00", "closes": "24:00"}],
        "exceptions": [{"date": "2030-01-05"}]})
    assert saved == {"userErrors": [], "locations": [{"code": "ST-ROMA", "openingHours": {
        "weekly": [{"day": "SUNDAY", "opens": "10:00", "closes": "24:00"}],
        "exceptions": [{"date": "2030-01-05", "closed": True}]}}]}

    removed = await upsert(openingHours=None)
    assert removed["locations"] == [{"code": "ST-ROMA", "openingHours": None}]
    # without hours the store is open around the clock again, as before hours existed
    pickup = (await _options(demo, _in_store("ST-ROMA")))[("PICKUP", None, "ST-ROMA")]
    assert pickup["earliestDelivery"] == "2030-01-02T04:59:00+00:00"


async def test_a_store_closed_every_day_promises_nothing_and_says_closed(demo, tokens):
    sku = _in_store("ST-ROMA")
    closed = (await demo.data(UPSERT, {"input": {"locations": [_roma(openingHours={
        "weekly": []})]}}, token=tokens["admin"]))["upsertLocations"]
    assert closed["userErrors"] == []

    found = await _options(demo, sku)
    simulated = (await demo.data(SIMULATE, {"input": {
        "channel": "web", "lines": [{"sku": sku, "quantity": 1}], "address": ROME,
        "policy": {"channel": "web", "strategy": "FASTEST", "shipFromStore": True}}},
        token=tokens["agent"]))["simulateSourcing"]

    assert not [key for key in found if key[2] == "ST-ROMA"]
    roma = next(c for c in simulated["candidates"] if c["location"]["code"] == "ST-ROMA")
    assert roma["rejectedBecause"][0] == "CLOSED"
    assert simulated["chosen"] and all(c["location"]["code"] != "ST-ROMA"
                                       for c in simulated["chosen"])
