"""A DELAYED carrier scan moves the promised window and tells the customer."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import TRACK, clock_at, fulfillment_ids, place, step
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
WINDOW = """query($n: String!) { order(number: $n) { promisedDelivery { earliest latest }
  timeline { type message before after } } }"""


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def _shipped(api, tokens) -> tuple[str, str]:
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 50}]}) { userErrors { code } } }""",
                   token=tokens["integration"])
    number = (await place(api, "delay-0001"))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        await step(api, name, fid, tokens["store_roma"])
    await step(api, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
               trackingNumber="BRT9")
    clock_at(api, "2030-01-03T09:00:00+00:00")  # the next morning, when the carrier reports
    return number, fid


async def _window(api, tokens, number: str) -> dict:
    return (await api.data(WINDOW, {"n": number}, token=tokens["agent"]))["order"]


async def test_a_delay_without_a_date_moves_the_latest_promise_one_working_day(
        network, tokens):
    number, fid = await _shipped(network, tokens)
    before = (await _window(network, tokens, number))["promisedDelivery"]
    assert before == {"earliest": "2030-01-03T08:00:00+00:00",
                      "latest": "2030-01-04T17:00:00+00:00"}  # a Friday

    delayed = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                         status="DELAYED", at="2030-01-03T08:00:00+00:00",
                         description="hub backlog")
    again = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                       status="DELAYED", at="2030-01-03T08:00:00+00:00")

    assert delayed["userErrors"] == again["userErrors"] == []
    after = await _window(network, tokens, number)
    assert after["promisedDelivery"] == {"earliest": "2030-01-03T08:00:00+00:00",
                                         "latest": "2030-01-07T17:00:00+00:00"}  # Monday
    moved = [t for t in after["timeline"] if t["type"] == "PROMISE_MOVED"]
    assert moved == [{"type": "PROMISE_MOVED",
                      "message": "BRT reported a delay: promised latest delivery moved from "
                                 "2030-01-04T17:00:00+00:00 to 2030-01-07T17:00:00+00:00 "
                                 "(one working day on)",
                      "before": "2030-01-04T17:00:00+00:00",
                      "after": "2030-01-07T17:00:00+00:00"}]
    tracked = (await network.data(TRACK, {"n": number, "e": "ada@example.com"}))["trackOrder"]
    assert [t["message"] for t in tracked["timeline"]][-2:] == [
        "Your delivery is delayed: hub backlog",
        "Your parcel is running late: we now expect it by Monday 7 January"]


async def test_a_delay_with_the_carriers_date_takes_it_and_keeps_the_window_ordered(
        network, tokens):
    number, fid = await _shipped(network, tokens)

    later = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                       status="DELAYED", at="2030-01-03T08:00:00+00:00",
                       expectedDelivery="2030-01-09T18:00:00+01:00")
    sooner = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                        status="DELAYED", at="2030-01-03T09:00:00+00:00",
                        expectedDelivery="2030-01-03T07:00:00+00:00")

    assert later["userErrors"] == sooner["userErrors"] == []
    found = await _window(network, tokens, number)
    # the carrier's word wins; the earliest follows it down so the window stays a window
    assert found["promisedDelivery"] == {"earliest": "2030-01-03T07:00:00+00:00",
                                         "latest": "2030-01-03T07:00:00+00:00"}
    assert [(t["before"], t["after"]) for t in found["timeline"]
            if t["type"] == "PROMISE_MOVED"] == [
        ("2030-01-04T17:00:00+00:00", "2030-01-09T17:00:00+00:00"),
        ("2030-01-09T17:00:00+00:00", "2030-01-03T07:00:00+00:00")]


async def test_an_expected_date_on_a_scan_other_than_delayed_is_refused(network, tokens):
    number, fid = await _shipped(network, tokens)

    refused = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                         status="IN_TRANSIT", at="2030-01-03T08:00:00+00:00",
                         expectedDelivery="2030-01-09T18:00:00+01:00")

    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["expectedDelivery"], "INVALID_INPUT")]
    found = await _window(network, tokens, number)
    assert found["promisedDelivery"]["latest"] == "2030-01-04T17:00:00+00:00"
