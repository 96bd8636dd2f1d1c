"""Orders driven from placeOrder to DELIVERED purely through the API, shipped and picked up."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import (
    TRACK,
    clock_at,
    fulfillment_ids,
    ledger,
    levels,
    order,
    place,
    rows,
    step,
)
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio


async def test_a_shipped_order_is_delivered_with_its_timeline_and_ledger(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    placed = await place(api, "flow-ship-0001", token=tokens["ada"])
    number, store = placed["number"], tokens["store_roma"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    assert await levels(api) == {("TSHIRT-BLU-M", "WH-MIL"): (120, 0),
                                 ("TSHIRT-BLU-M", "ST-ROMA"): (6, 2),
                                 ("LAMP-ARCO", "WH-MIL"): (1, 0)}

    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, store))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fid, store, carrier="BRT",
                         trackingNumber="BRT0001", serviceLevel="EXPRESS")
    assert shipped["fulfillment"] == {"id": fid, "status": "SHIPPED", "carrier": "BRT",
                                      "trackingNumber": "BRT0001"}
    assert shipped["order"] == {"number": number, "status": "SHIPPED"}
    assert await levels(api) == {("TSHIRT-BLU-M", "WH-MIL"): (120, 0),
                                 ("TSHIRT-BLU-M", "ST-ROMA"): (4, 0),
                                 ("LAMP-ARCO", "WH-MIL"): (1, 0)}
    for status, at in (("PICKED_UP", "2030-01-02T15:00:00+01:00"),
                       ("OUT_FOR_DELIVERY", "2030-01-03T08:00:00+01:00"),
                       ("DELIVERED", "2030-01-03T11:20:00+01:00")):
        clock_at(api, at)  # the carrier reports each scan as it happens
        scanned = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                             status=status, at=at, location="Roma")
        assert scanned["userErrors"] == []
    assert scanned["order"] == {"number": number, "status": "DELIVERED"}

    got = await order(api, number, tokens["agent"])
    assert got["status"] == "DELIVERED"
    assert got["lines"] == [{"sku": "TSHIRT-BLU-M", "quantity": 2, "status": "DELIVERED",
                             "backordered": 0, "cancelled": 0}]
    [f] = got["fulfillments"]
    assert (f["status"], f["shippedAt"], f["deliveredAt"], f["nextStatuses"]) == (
        "DELIVERED", "2030-01-02T09:30:00+00:00", "2030-01-03T10:20:00+00:00", [])
    assert [e["status"] for e in f["trackingEvents"]] == ["PICKED_UP", "OUT_FOR_DELIVERY",
                                                          "DELIVERED"]
    assert [(t["type"], t["actorRole"], t["before"], t["after"]) for t in got["timeline"]] == [
        ("ORDER_PLACED", "customer", None, None), ("ALLOCATED", "system", None, None),
        ("FULFILLMENT_ACCEPTED", "store", "ASSIGNED", "ACCEPTED"),
        ("FULFILLMENT_PICKED", "store", "ACCEPTED", "PICKED"),
        ("FULFILLMENT_PACKED", "store", "PICKED", "PACKED"),
        ("FULFILLMENT_SHIPPED", "store", "PACKED", "SHIPPED"),
        ("TRACKING_PICKED_UP", "integration", "SHIPPED", "IN_TRANSIT"),
        ("TRACKING_OUT_FOR_DELIVERY", "integration", "IN_TRANSIT", "OUT_FOR_DELIVERY"),
        ("TRACKING_DELIVERED", "integration", "OUT_FOR_DELIVERY", "DELIVERED")]
    assert got["timeline"][2]["actor"] == "store:roma@example.com"
    assert await ledger(db_url, "TSHIRT-BLU-M", "ST-ROMA") == [
        (6, 0, "CYCLE_COUNT", None), (0, 2, "ORDER_RESERVED", number),
        (-2, -2, "SHIPPED", number)]

    tracked = (await api.data(TRACK, {"n": number, "e": "ada@example.com"}))["trackOrder"]
    assert tracked["status"] == "DELIVERED"
    assert tracked["fulfillments"][0]["trackingNumber"] == "BRT0001"
    assert [t["message"] for t in tracked["timeline"]] == [
        "We received your order", "Your items are reserved for you",
        "We are preparing your order", "Your items are packed",
        "Shipped with BRT, tracking number BRT0001", "On its way", "Out for delivery",
        "Delivered"]
    streams = await rows(db_url, "SELECT stream, type FROM outbox WHERE stream IN "
                                 "('location:ST-ROMA', :o) ORDER BY stream, sequence",
                         o=f"order:{number}")
    assert [t for s, t in streams if s == "location:ST-ROMA"] == [
        "FULFILLMENT_CREATED", "FULFILLMENT_ACCEPTED", "FULFILLMENT_PICKED",
        "FULFILLMENT_PACKED", "FULFILLMENT_SHIPPED", "TRACKING_PICKED_UP",
        "TRACKING_OUT_FOR_DELIVERY", "TRACKING_DELIVERED"]
    assert [t for s, t in streams if s != "location:ST-ROMA"] == [
        "ORDER_PLACED", "FULFILLMENT_ACCEPTED", "FULFILLMENT_PICKED", "FULFILLMENT_PACKED",
        "FULFILLMENT_SHIPPED", "TRACKING_PICKED_UP", "TRACKING_OUT_FOR_DELIVERY",
        "TRACKING_DELIVERED"]
    assert await violations(db_url) == []


async def test_a_pickup_order_is_delivered_at_the_counter(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    placed = await place(api, "flow-pickup-01", token=tokens["ada"],
                         delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"})
    number, store = placed["number"], tokens["store_roma"]
    fid = (await fulfillment_ids(api, number, store))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, store))["userErrors"] == []

    refused = await step(api, "shipFulfillment", fid, store, carrier="BRT", trackingNumber="1")
    assert refused["fulfillment"] is None
    assert refused["userErrors"] == [{
        "field": ["fulfillmentId"], "code": "INVALID_TRANSITION",
        "message": "fulfillment at ST-ROMA is PACKED: cannot become SHIPPED; allowed next: "
                   "READY_FOR_PICKUP, CANCELLED"}]
    ready = await step(api, "markReadyForPickup", fid, store)
    assert ready["order"] == {"number": number, "status": "READY_FOR_PICKUP"}
    # the parcel waits on the shelf: still reserved, not yet sold
    assert (await levels(api))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 2)

    collected = await step(api, "confirmPickup", fid, store)
    assert collected["fulfillment"]["status"] == "DELIVERED"
    assert collected["order"] == {"number": number, "status": "DELIVERED"}
    assert (await levels(api))[("TSHIRT-BLU-M", "ST-ROMA")] == (4, 0)
    got = await order(api, number, tokens["agent"])
    assert [t["type"] for t in got["timeline"]] == [
        "ORDER_PLACED", "ALLOCATED", "FULFILLMENT_ACCEPTED", "FULFILLMENT_PICKED",
        "FULFILLMENT_PACKED", "FULFILLMENT_READY_FOR_PICKUP", "FULFILLMENT_DELIVERED"]
    assert await ledger(db_url, "TSHIRT-BLU-M", "ST-ROMA") == [
        (6, 0, "CYCLE_COUNT", None), (0, 2, "ORDER_RESERVED", number),
        (-2, -2, "PICKED_UP", number)]
    mine = await order(api, number, tokens["ada"])  # the customer's view: plain words
    assert [t["message"] for t in mine["timeline"]][-2:] == [
        "Ready for pickup at Roma Via del Corso", "Collected at the store: enjoy!"]
    assert {t["actor"] for t in mine["timeline"]} == {"customer", "promessa"}
    assert await violations(db_url) == []


async def test_a_rejection_nobody_else_can_take_releases_its_stock_and_holds_the_order(
        api, tokens, db_url):
    # (with stock elsewhere it is re-sourced instead: tests/api/test_reject_resourcing.py)
    await seed_contract_network(api, tokens)
    number = (await place(api, "flow-reject-01"))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "WH-MIL", onHand: 0, safetyStock: 0}]})
        { userErrors { code } } }""",
                   token=tokens["integration"])

    rejected = await step(api, "rejectFulfillment", fid, tokens["store_roma"],
                          reason="ITEM_NOT_FOUND")

    assert rejected["order"] == {"number": number, "status": "ON_HOLD"}
    assert (await levels(api))[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 0)
    got = await order(api, number, tokens["agent"])
    assert got["holdReason"] == ("ST-ROMA rejected: ITEM_NOT_FOUND; no other location can "
                                 "supply 2 × TSHIRT-BLU-M")
    assert got["lines"][0]["status"] == "UNALLOCATED"
    assert got["fulfillments"][0]["reason"] == "ITEM_NOT_FOUND"
    assert await ledger(db_url, "TSHIRT-BLU-M", "ST-ROMA") == [
        (6, 0, "CYCLE_COUNT", None), (0, 2, "ORDER_RESERVED", number),
        (0, -2, "REJECTED", number)]
    assert await violations(db_url) == []
