"""A THIRD_PARTY location with an acknowledgement window (issue 13), end to end on both
engines: the location is saved with `ackMinutes`, work sourced there is offered to it
(FULFILLMENT_ASSIGNED), and once the window has passed the timer's use case re-sources what it
did not accept — and leaves what it accepted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.api.lifecycle import fulfillment_ids, levels, order, place, rows, step
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio

PARTNER = {"code": "3PL-ROMA", "name": "Roma logistics partner", "type": "THIRD_PARTY",
           "address": {"line1": "Via Tiburtina 900", "city": "Roma", "postalCode": "00156",
                       "country": "IT", "latitude": 41.92, "longitude": 12.55},
           "capabilities": ["SHIP"], "channels": ["web"], "timeZone": "Europe/Rome",
           "processingHours": 4, "costPerShipment": "1.00"}
UPSERT = """mutation($input: UpsertLocationsInput!) { upsertLocations(input: $input) {
  locations { code type ackMinutes } userErrors { field message code } } }"""
STOCK = """mutation { setInventory(input: {reason: "COUNT", levels: [
  {sku: "LAMP-ARCO", location: "3PL-ROMA", onHand: 5}]}) { userErrors { code } } }"""
LOCATIONS = "query { locations { code ackMinutes } }"
LAMP = [{"sku": "LAMP-ARCO", "quantity": 1}]


async def upsert(api, token: str, **changes) -> dict:
    return (await api.data(UPSERT, {"input": {"locations": [{**PARTNER, **changes}]}},
                           token=token))["upsertLocations"]


async def test_work_the_partner_does_not_accept_in_time_is_resourced_and_says_so(
        api, tokens, clock, db_url):
    await seed_contract_network(api, tokens)
    for changes, field in (({"ackMinutes": 0}, "ackMinutes"),
                           ({"ackMinutes": 10081}, "ackMinutes"),
                           ({"ackMinutes": 30, "type": "WAREHOUSE"}, "ackMinutes")):
        refused = await upsert(api, tokens["admin"], **changes)
        assert (refused["locations"], [(e["code"], e["field"]) for e in refused["userErrors"]]) \
            == ([], [("INVALID_INPUT", ["locations", "0", field])])
    saved = await upsert(api, tokens["admin"], ackMinutes=30)
    assert saved == {"locations": [{"code": "3PL-ROMA", "type": "THIRD_PARTY", "ackMinutes": 30}],
                     "userErrors": []}
    assert {"code": "3PL-ROMA", "ackMinutes": 30} in (
        await api.data(LOCATIONS, token=tokens["agent"]))["locations"]
    assert {"code": "3PL-ROMA", "ackMinutes": None} in (  # the partner's terms are staff's
        await api.data(LOCATIONS))["locations"]
    assert (await api.data(STOCK, token=tokens["admin"]))["setInventory"]["userErrors"] == []

    late = (await place(api, "ack-late-01", lines=LAMP))["number"]
    on_time = (await place(api, "ack-ontime-01", lines=LAMP))["number"]
    late_work = await fulfillment_ids(api, late, tokens["agent"])
    assert list(late_work) == ["3PL-ROMA"]
    got = await order(api, late, tokens["agent"])
    assert [(t["type"], t["message"], t["actorRole"]) for t in got["timeline"]][-1] == (
        "FULFILLMENT_ASSIGNED", "Work offered to 3PL-ROMA (1 units); to be accepted within "
        "30 minutes", "system")
    partner_work = (await fulfillment_ids(api, on_time, tokens["agent"]))["3PL-ROMA"]
    accepted = await step(api, "acceptFulfillment", partner_work, tokens["integration"])
    assert accepted["userErrors"] == []
    app = api.app.state.deps.app

    clock.current += timedelta(minutes=30)
    assert await app.fulfillment.expire_unacknowledged() == 0
    clock.current += timedelta(minutes=1)
    # timers of three processes at once: the work is re-sourced once
    assert sorted(await asyncio.gather(*(app.fulfillment.expire_unacknowledged()
                                         for _ in range(3)))) == [0, 0, 1]
    assert await app.fulfillment.expire_unacknowledged() == 0

    got = await order(api, late, tokens["agent"])
    assert [(f["location"]["code"], f["status"], f["reason"]) for f in got["fulfillments"]] == [
        ("3PL-ROMA", "REJECTED", "NOT_ACKNOWLEDGED"), ("WH-MIL", "ASSIGNED", None)]
    assert got["status"] == "ALLOCATED" and got["holdReason"] is None
    assert [(t["type"], t["message"], t["actorRole"]) for t in got["timeline"]][-2:] == [
        ("FULFILLMENT_UNACKNOWLEDGED",
         "3PL-ROMA did not accept its fulfillment within 30 minutes (1 units)", "system"),
        ("ORDER_RESOURCED",
         "1 units re-sourced to WH-MIL after 3PL-ROMA did not accept them within 30 minutes",
         "system")]
    kept = await order(api, on_time, tokens["agent"])
    assert [(f["location"]["code"], f["status"]) for f in kept["fulfillments"]] == [
        ("3PL-ROMA", "ACCEPTED")]
    assert (await levels(api))[("LAMP-ARCO", "3PL-ROMA")] == (5, 1)  # the accepted one
    assert (await levels(api))[("LAMP-ARCO", "WH-MIL")] == (1, 1)
    streamed = await rows(db_url, "SELECT type FROM outbox WHERE stream = 'location:3PL-ROMA' "
                                  "ORDER BY sequence")
    assert [t for (t,) in streamed] == [
        "FULFILLMENT_CREATED", "FULFILLMENT_ASSIGNED", "FULFILLMENT_CREATED",
        "FULFILLMENT_ASSIGNED", "FULFILLMENT_ACCEPTED", "FULFILLMENT_UNACKNOWLEDGED"]
    assert await violations(db_url) == []
