"""Dates that feed the shipping calendar are bounded on input, and the calendar is total: a
far-future receipt (`9999-12-31…`) is refused with its field, and one already stored does not
turn anonymous promises and checkouts into "Unexpected error" (issue 17, item 8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from persistence.db import Database
from persistence.tables import IncomingRow
from tests.api.lifecycle import EXPECT, fulfillment_ids, place, step
from tests.api.test_delivery_promise import PLACED, PROMISE, cart, checkout, options
from tests.api.test_place_order import order_input
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
EXTREMES = ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00", "2032-01-04T09:30:00+00:00",  # 2 years and a day on
            "2028-12-31T09:30:00+00:00"]  # a year and a day back
DOWNTIME = """mutation($input: ScheduleDowntimeInput!) {
  scheduleLocationDowntime(input: $input) { downtime { startsAt endsAt }
    userErrors { field code } } }"""


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def _store_receipt(db_url: str, expected_at: datetime) -> None:
    """A receipt written before the bounds existed, straight into the table."""
    db = Database(db_url)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(sa.insert(IncomingRow).values(
                id=str(uuid.uuid4()), sku="LAMP-ARCO", location="WH-MIL", quantity=10,
                allocated=0, expected_at=expected_at, created_at=datetime(2030, 1, 1, tzinfo=UTC)))
    finally:
        await db.dispose()


@pytest.mark.parametrize("when", EXTREMES)
async def test_an_expected_receipt_beyond_the_bounds_is_refused_with_its_field(
        network, tokens, when):
    refused = (await network.data(EXPECT, {"input": {
        "sku": "LAMP-ARCO", "location": "WH-MIL", "quantity": 10, "expectedAt": when}},
        token=tokens["integration"]))["expectIncoming"]

    assert refused == {"incoming": None, "userErrors": [{"code": "INVALID_INPUT"}]}
    found = (await network.data("""query { availability(skus: ["LAMP-ARCO"], channel: "web")
        { incoming { quantity } } }"""))["availability"]
    assert found == [{"incoming": []}]


async def test_an_expected_receipt_within_two_years_is_accepted(network, tokens):
    accepted = (await network.data(EXPECT, {"input": {
        "sku": "LAMP-ARCO", "location": "WH-MIL", "quantity": 10,
        "expectedAt": "2031-12-31T09:00:00+01:00"}}, token=tokens["integration"]))

    assert accepted["expectIncoming"]["userErrors"] == []


async def test_the_refusal_names_the_field_inside_input(network, tokens):
    result = await network.data("""mutation { expectIncoming(input: {sku: "LAMP-ARCO",
        location: "WH-MIL", quantity: 10, expectedAt: "9999-12-31T23:59:59+00:00"})
        { userErrors { field code message } } }""", token=tokens["integration"])

    [error] = result["expectIncoming"]["userErrors"]
    assert (error["field"], error["code"]) == (["expectedAt"], "INVALID_INPUT")
    assert "too far ahead" in error["message"]


async def test_a_stored_far_future_receipt_leaves_promises_and_checkout_working(
        network, db_url):
    await _store_receipt(db_url, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))

    # anonymous, as a storefront: the one lamp in stock is promised, three are not
    one = await network.post(PROMISE, cart(("LAMP-ARCO", 1)))
    three = await network.post(PROMISE, cart(("LAMP-ARCO", 3)))
    assert "errors" not in one and "errors" not in three, (one, three)
    assert one["data"]["deliveryPromise"]["options"] != []
    assert three["data"]["deliveryPromise"] == {"options": [], "unavailable": [
        {"sku": "LAMP-ARCO", "quantity": 3, "code": "INSUFFICIENT_STOCK"}]}

    # checkout without a promise: the receipt is no more to count on than for the promise
    placed = await network.post(PLACED, {"input": order_input(
        "far-receipt-0001", lines=[{"sku": "LAMP-ARCO", "quantity": 3}])})
    assert "errors" not in placed, placed
    assert placed["data"]["placeOrder"] == {"order": None, "userErrors": [{
        "field": ["lines", "0"], "message": "not enough stock for LAMP-ARCO",
        "code": "INSUFFICIENT_STOCK"}]}
    # and with one: the lamp in stock is sold as promised
    standard = (await options(network, ("LAMP-ARCO", 1)))[("SHIP", "STANDARD")]
    promised = await network.post(PLACED, {"input": checkout(standard, [("LAMP-ARCO", 1)])})
    assert "errors" not in promised, promised
    answer = promised["data"]["placeOrder"]
    assert answer["userErrors"] == [] and answer["order"]["lines"] == [
        {"sku": "LAMP-ARCO", "quantity": 1, "status": "ALLOCATED", "backordered": 0}]


@pytest.mark.parametrize(("starts", "ends", "field"), [
    ("2030-01-05T00:00:00+01:00", "9999-12-31T23:59:59-14:00", ["endsAt"]),
    ("0001-01-01T00:00:00+14:00", "2030-01-05T00:00:00+01:00", ["startsAt"])])
async def test_a_downtime_window_beyond_the_bounds_is_refused(network, tokens, starts, ends,
                                                              field):
    result = (await network.data(DOWNTIME, {"input": {
        "location": "WH-MIL", "startsAt": starts, "endsAt": ends, "reason": "stock take"}},
        token=tokens["admin"]))["scheduleLocationDowntime"]

    assert result == {"downtime": None, "userErrors": [{"field": field,
                                                        "code": "INVALID_INPUT"}]}


@pytest.mark.parametrize(("values", "field"), [
    ({"status": "IN_TRANSIT", "at": "0001-01-01T00:00:00+14:00"}, ["at"]),
    ({"status": "DELAYED", "at": "2030-01-02T09:00:00+00:00",
      "expectedDelivery": "9999-12-31T23:59:59-14:00"}, ["expectedDelivery"])])
async def test_a_scan_dated_beyond_the_bounds_is_refused(network, tokens, values, field):
    number = (await place(network, "bounded-scan-0001"))["number"]
    fid = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        await step(network, name, fid, tokens["store_roma"])
    await step(network, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
               trackingNumber="BRT1")

    refused = await step(network, "recordTrackingEvent", fid, tokens["integration"], **values)

    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(field, "INVALID_INPUT")]
    assert refused["fulfillment"] is None
