"""A carrier scan dated in the future is refused and freezes nothing; a scan that changes nothing
says so (issue 16, item 3: the README's own example, dated the next day, used to be accepted and
then kept a real DELIVERED scan from moving the status)."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import ORDER, TRACK, clock_at, fulfillment_ids, order, place, step
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
TOMORROW = "2030-01-03T08:00:00+01:00"  # the test clock is 2030-01-02 09:30 UTC


@pytest.fixture
async def shipped(api, tokens) -> tuple[str, str]:
    await seed_contract_network(api, tokens)
    number = (await place(api, "future-scan-0001"))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, tokens["store_roma"]))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
                         trackingNumber="BRT42")
    assert shipped["userErrors"] == []
    return number, fid


async def test_a_scan_dated_in_the_future_is_refused_and_changes_nothing(api, tokens, shipped):
    number, fid = shipped
    before = await order(api, number, tokens["agent"])

    refused = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                         status="OUT_FOR_DELIVERY", at=TOMORROW, location="Roma")

    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["at"], "SCAN_IN_FUTURE")]
    assert "15 minutes" in refused["userErrors"][0]["message"]
    assert (refused["fulfillment"], refused["ignored"], refused["ignoredReason"]) == (
        None, False, None)
    after = await order(api, number, tokens["agent"])
    assert after == before
    assert after["fulfillments"][0]["status"] == "SHIPPED"
    assert after["fulfillments"][0]["trackingEvents"] == []


async def test_a_scan_within_the_skew_is_accepted(api, tokens, shipped):
    _, fid = shipped

    scanned = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                         status="PICKED_UP", at="2030-01-02T09:44:00+00:00")  # 14 min ahead

    assert scanned["userErrors"] == []
    assert (scanned["fulfillment"]["status"], scanned["ignored"]) == ("IN_TRANSIT", False)


async def test_after_a_refused_future_scan_a_real_delivered_scan_moves_the_status(
        api, tokens, shipped, clock):
    number, fid = shipped
    await step(api, "recordTrackingEvent", fid, tokens["integration"],
               status="OUT_FOR_DELIVERY", at=TOMORROW)
    clock_at(api, "2030-01-02T16:10:00+01:00")

    delivered = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                           status="DELIVERED", at="2030-01-02T16:05:00+01:00")

    assert delivered["userErrors"] == []
    assert (delivered["fulfillment"]["status"], delivered["order"]["status"]) == (
        "DELIVERED", "DELIVERED")
    assert (delivered["ignored"], delivered["ignoredReason"]) == (False, None)
    tracked = (await api.data(TRACK, {"n": number, "e": "ada@example.com"}))["trackOrder"]
    assert tracked["status"] == "DELIVERED"
    assert tracked["fulfillments"][0]["trackingEvents"] == [{"status": "DELIVERED"}]


async def test_a_duplicate_scan_answers_ignored_with_the_reason(api, tokens, shipped):
    number, fid = shipped
    scan = {"status": "PICKED_UP", "at": "2030-01-02T10:15:00+01:00", "location": "Roma"}

    first = await step(api, "recordTrackingEvent", fid, tokens["integration"], **scan)
    again = await step(api, "recordTrackingEvent", fid, tokens["integration"], **scan)

    assert first["userErrors"] == again["userErrors"] == []
    assert (first["ignored"], first["ignoredReason"]) == (False, None)
    assert (again["ignored"], again["ignoredReason"]) == (True, "DUPLICATE")
    assert again["fulfillment"]["status"] == "IN_TRANSIT"
    found = (await api.data(ORDER, {"n": number}, token=tokens["agent"]))["order"]
    assert [e["status"] for e in found["fulfillments"][0]["trackingEvents"]] == ["PICKED_UP"]


async def test_an_older_or_backward_scan_answers_ignored_with_the_reason(api, tokens, shipped,
                                                                        clock):
    _, fid = shipped
    clock_at(api, "2030-01-02T15:00:00+01:00")
    carrier = tokens["integration"]
    await step(api, "recordTrackingEvent", fid, carrier, status="OUT_FOR_DELIVERY",
               at="2030-01-02T14:00:00+01:00")

    older = await step(api, "recordTrackingEvent", fid, carrier, status="DELIVERED",
                       at="2030-01-02T13:00:00+01:00")
    backward = await step(api, "recordTrackingEvent", fid, carrier, status="PICKED_UP",
                          at="2030-01-02T14:30:00+01:00")

    assert older["userErrors"] == backward["userErrors"] == []
    assert [(x["ignored"], x["ignoredReason"], x["fulfillment"]["status"])
            for x in (older, backward)] == [(True, "OLDER_THAN_NEWEST", "OUT_FOR_DELIVERY"),
                                            (True, "STATUS_NOT_NEXT", "OUT_FOR_DELIVERY")]
