"""The awkward cases through the API: each gives its documented answer and leaves consistent
state (SPEC §3 invariants) behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from strawberry import relay

from tests.api.lifecycle import (
    ADDRESS,
    EXPECT,
    RECEIVE,
    clock_at,
    desk,
    fulfillment_ids,
    levels,
    order,
    place,
    rows,
    step,
)
from tests.api.test_place_order import order_input
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio
SPLIT = [{"sku": "TSHIRT-BLU-M", "quantity": 3}, {"sku": "LAMP-ARCO", "quantity": 1}]


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def ship(api, fid: str, token: str) -> None:
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, token))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fid, token, carrier="BRT", trackingNumber="T1")
    assert shipped["userErrors"] == []


async def test_duplicate_and_out_of_order_carrier_scans(network, tokens, db_url):
    number = (await place(network, "scans-000001"))["number"]
    fid = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    await ship(network, fid, tokens["store_roma"])
    carrier = tokens["integration"]
    delivered = {"status": "DELIVERED", "at": "2030-01-03T11:20:00+01:00"}
    clock_at(network, delivered["at"])

    first = await step(network, "recordTrackingEvent", fid, carrier, **delivered)
    outbox = await rows(db_url, "SELECT COUNT(*) FROM outbox WHERE stream != '$all'")
    again = await step(network, "recordTrackingEvent", fid, carrier,
                       **{**delivered, "at": "2030-01-03T10:20:00Z"})  # the same instant
    late = await step(network, "recordTrackingEvent", fid, carrier, status="IN_TRANSIT",
                      at="2030-01-02T18:00:00+01:00")

    assert first["fulfillment"]["status"] == again["fulfillment"]["status"] == "DELIVERED"
    assert again["userErrors"] == [] and late["userErrors"] == []
    # no errors, but never silently: each says whether it took effect, and why not
    assert [(x["ignored"], x["ignoredReason"]) for x in (first, again, late)] == [
        (False, None), (True, "DUPLICATE"), (True, "OLDER_THAN_NEWEST")]
    assert late["fulfillment"]["status"] == "DELIVERED"
    assert late["order"]["status"] == "DELIVERED"
    scans = await rows(db_url, "SELECT status FROM tracking_events ORDER BY at")
    assert scans == [("IN_TRANSIT",), ("DELIVERED",)]
    # the duplicate wrote nothing; the late scan one event, on the order's, the orders' and
    # the location's streams
    assert (await rows(db_url, "SELECT COUNT(*) FROM outbox WHERE stream != '$all'")
            )[0][0] == outbox[0][0] + 3
    got = await order(network, number, tokens["agent"])
    assert got["timeline"][-1]["message"] == (
        "BRT scan IN_TRANSIT (2030-01-02T17:00:00+00:00); received after a newer scan, "
        "fulfillment stays DELIVERED")
    assert await violations(db_url) == []


async def test_a_scan_before_shipment_is_refused(network, tokens):
    number = (await place(network, "scans-000002"))["number"]
    fid = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    clock_at(network, "2030-01-02T18:00:00+01:00")

    result = await step(network, "recordTrackingEvent", fid, tokens["integration"],
                        status="IN_TRANSIT", at="2030-01-02T18:00:00+01:00")

    assert result["userErrors"] == [{
        "field": ["fulfillmentId"], "code": "INVALID_TRANSITION",
        "message": "fulfillment at ST-ROMA is ASSIGNED: cannot become IN_TRANSIT (carrier "
                   "events are accepted once it has shipped); allowed next: ACCEPTED, "
                   "REJECTED, CANCELLED"}]


@pytest.mark.parametrize("bad", [
    "not-base64!", "", relay.GlobalID("Order", "x").node_id,
    str(relay.GlobalID("Order", "00000000-0000-0000-0000-000000000000")),
    str(relay.GlobalID("Fulfillment", "00000000-0000-0000-0000-000000000000"))])
async def test_a_malformed_or_foreign_id_is_not_found(network, tokens, bad):
    result = await step(network, "acceptFulfillment", bad, tokens["admin"])
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("NOT_FOUND", ["fulfillmentId"])]


async def test_cancelling_after_partial_picking_releases_picked_and_unpicked_work(
        network, tokens, db_url):
    number = (await place(network, "cancel-partial-1", lines=SPLIT))["number"]
    ids = await fulfillment_ids(network, number, tokens["agent"])
    assert set(ids) == {"WH-MIL"}  # only the warehouse has the lamp: one shipment
    second = (await place(network, "cancel-partial-2", lines=[
        {"sku": "TSHIRT-BLU-M", "quantity": 116}]))["number"]  # 112 at WH-MIL, 4 at ST-ROMA
    split = await fulfillment_ids(network, second, tokens["agent"])
    for name in ("acceptFulfillment", "pickFulfillment"):
        await step(network, name, split["WH-MIL"], tokens["store_mil"])

    by_customer = await desk(network, "cancelOrder", tokens["ada"], number=second,
                             reason="CHANGED_MIND")
    assert [e["code"] for e in by_customer["userErrors"]] == ["INVALID_TRANSITION"]
    assert "its items are already picked" in by_customer["userErrors"][0]["message"]
    cancelled = await desk(network, "cancelOrder", tokens["agent"], number=second,
                           reason="CUSTOMER_REQUEST")

    assert cancelled["userErrors"] == []
    assert cancelled["order"]["status"] == "CANCELLED"
    assert cancelled["order"]["lines"] == [{"sku": "TSHIRT-BLU-M", "status": "CANCELLED",
                                            "cancelled": 116}]
    assert await levels(network) == {("TSHIRT-BLU-M", "WH-MIL"): (120, 3),
                                     ("TSHIRT-BLU-M", "ST-ROMA"): (6, 0),
                                     ("LAMP-ARCO", "WH-MIL"): (1, 1)}
    got = await order(network, second, tokens["agent"])
    assert [(f["location"]["code"], f["status"], f["reason"]) for f in got["fulfillments"]] == [
        ("ST-ROMA", "CANCELLED", "CUSTOMER_REQUEST"), ("WH-MIL", "CANCELLED", "CUSTOMER_REQUEST")]
    assert await violations(db_url) == []


async def test_the_address_changes_until_the_first_parcel_leaves(network, tokens, db_url):
    number = (await place(network, "address-00001"))["number"]
    changed = await desk(network, "updateShippingAddress", tokens["agent"], number=number,
                         address=ADDRESS)
    assert changed["userErrors"] == []
    fid = (await fulfillment_ids(network, number, tokens["agent"]))["ST-ROMA"]
    await ship(network, fid, tokens["store_roma"])

    refused = await desk(network, "updateShippingAddress", tokens["agent"], number=number,
                         address={**ADDRESS, "line1": "Via Tuscolana 1"})

    assert refused["userErrors"] == [{
        "field": ["number"], "code": "INVALID_TRANSITION",
        "message": f"order {number} is SHIPPED: cannot be changed this way (the shipping "
                   "address cannot change once a parcel has left); allowed next: DELIVERED"}]
    got = await order(network, number, tokens["agent"])
    edit = next(t for t in got["timeline"] if t["type"] == "SHIPPING_ADDRESS_UPDATED")
    assert (edit["before"], edit["after"]) == ("Via Nazionale 10, 00184 Roma, IT",
                                               "Via Appia 5, 00179 Roma, IT")
    assert await violations(db_url) == []


async def test_a_customer_may_cancel_only_inside_the_window(network, tokens, clock, db_url):
    early = (await place(network, "window-00001", token=tokens["ada"]))["number"]
    late = (await place(network, "window-00002", token=tokens["ada"]))["number"]
    clock.current += timedelta(minutes=30)
    assert (await desk(network, "cancelOrder", tokens["ada"], number=early,
                       reason="CHANGED_MIND"))["order"]["status"] == "CANCELLED"

    clock.current += timedelta(seconds=1)
    refused = await desk(network, "cancelOrder", tokens["ada"], number=late,
                         reason="CHANGED_MIND")

    assert [e["code"] for e in refused["userErrors"]] == ["CANCELLATION_WINDOW_CLOSED"]
    assert (await order(network, late, tokens["ada"]))["status"] == "ALLOCATED"
    mine = await order(network, early, tokens["ada"])
    assert [t["message"] for t in mine["timeline"]][-1] == "Order cancelled"
    assert await violations(db_url) == []


async def test_received_stock_serves_waiting_backorders_first_come_first_served(
        network, tokens, db_url):
    integration = tokens["integration"]
    await network.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "LAMP-ARCO", location: "WH-MIL", onHand: 0}]}) { userErrors { code } } }""",
                       token=integration)
    receipt = (await network.data(EXPECT, {"input": {
        "sku": "LAMP-ARCO", "location": "WH-MIL", "quantity": 5,
        "expectedAt": "2030-01-15T09:00:00+01:00"}}, token=integration))["expectIncoming"]
    numbers = []
    for i, quantity in enumerate((2, 2, 1)):
        placed = await place(network, f"backorder-0{i}",
                             lines=[{"sku": "LAMP-ARCO", "quantity": quantity}])
        assert placed["status"] == "BACKORDERED"
        numbers.append(placed["number"])
    assert await violations(db_url) == []

    received = (await network.data(RECEIVE, {"input": {
        "incomingId": receipt["incoming"]["id"], "quantity": 3}}, token=integration))[
        "receiveIncoming"]

    assert received["userErrors"] == []
    assert received["incoming"]["receivedQuantity"] == 3
    assert received["level"] == {"onHand": 3, "reserved": 3, "available": 0}
    assert received["allocations"] == [{"orderNumber": numbers[0], "quantity": 2},
                                       {"orderNumber": numbers[1], "quantity": 1}]
    statuses = [(await order(network, n, tokens["agent"]))["status"] for n in numbers]
    assert statuses == ["ALLOCATED", "PARTIALLY_ALLOCATED", "BACKORDERED"]
    again = (await network.data(RECEIVE, {"input": {"incomingId": receipt["incoming"]["id"]}},
                                token=integration))["receiveIncoming"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    assert await violations(db_url) == []

    # the next receipt serves whoever is still waiting, in the same order
    later = (await network.data(EXPECT, {"input": {
        "sku": "LAMP-ARCO", "location": "WH-MIL", "quantity": 4,
        "expectedAt": "2030-02-15T09:00:00+01:00"}}, token=integration))["expectIncoming"]
    rest = (await network.data(RECEIVE, {"input": {"incomingId": later["incoming"]["id"]}},
                               token=integration))["receiveIncoming"]
    assert rest["allocations"] == [{"orderNumber": numbers[1], "quantity": 1},
                                   {"orderNumber": numbers[2], "quantity": 1}]
    assert rest["level"] == {"onHand": 7, "reserved": 5, "available": 2}
    fids = await fulfillment_ids(network, numbers[2], tokens["agent"])
    queue = await network.data("""query { fulfillments(location: "WH-MIL", status: [ASSIGNED])
        { totalCount edges { node { id order { number } } } } }""", token=tokens["store_mil"])
    assert queue["fulfillments"]["totalCount"] == 4  # order 0 one, order 1 two, order 2 one
    assert sorted((e["node"]["order"]["number"], e["node"]["id"])
                  for e in queue["fulfillments"]["edges"] if e["node"]["order"]["number"]
                  == numbers[2]) == [(numbers[2], fids["WH-MIL"])]
    assert await violations(db_url) == []


async def test_the_cancel_window_comes_from_the_settings(db_url, tokens, clock):
    import httpx

    from api.app import create_app
    from tests.conftest import Api, make_settings

    app = create_app(make_settings(db_url, customer_cancel_minutes=5), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            api = Api(client, app)
            await seed_contract_network(api, tokens)
            number = (await place(api, "window-short-1", token=tokens["ada"]))["number"]
            clock.current += timedelta(minutes=6)  # inside the default 30, past these 5

            refused = await desk(api, "cancelOrder", tokens["ada"], number=number,
                                 reason="CHANGED_MIND")

    assert [e["code"] for e in refused["userErrors"]] == ["CANCELLATION_WINDOW_CLOSED"]
    assert "within 5 minutes" in refused["userErrors"][0]["message"]


async def test_customers_and_guests_see_plain_words_and_no_staff_notes(network, tokens):
    guest = await network.data("""mutation($input: PlaceOrderInput!) { placeOrder(input: $input)
        { order { number timeline { type message actor } notes { text } } } }""",
                               {"input": order_input("plain-words-01")})
    placed = guest["placeOrder"]["order"]
    assert placed["timeline"] == [
        {"type": "ORDER_PLACED", "message": "We received your order", "actor": "guest"},
        {"type": "ALLOCATED", "message": "Your items are reserved for you",
         "actor": "promessa"}]
    assert placed["notes"] == []
    number = placed["number"]
    await desk(network, "holdOrder", tokens["agent"], number=number, reason="FRAUD_CHECK")
    await desk(network, "addOrderNote", tokens["agent"], number=number, text="looks odd")
    await desk(network, "addOrderTags", tokens["agent"], number=number, tags=["VIP"])

    mine = await order(network, number, tokens["ada"])
    staff = await order(network, number, tokens["agent"])

    assert (mine["status"], mine["holdReason"], mine["tags"], mine["notes"]) == (
        "ON_HOLD", None, [], [])
    assert [t["type"] for t in mine["timeline"]] == ["ORDER_PLACED", "ALLOCATED"]
    assert (staff["holdReason"], staff["tags"]) == ("FRAUD_CHECK", ["VIP"])
    assert staff["fulfillments"][0]["nextStatuses"] == ["REJECTED", "CANCELLED"]  # held
    assert staff["notes"] == [{"author": "agent:agent@example.com", "text": "looks odd"}]
    assert [t["type"] for t in staff["timeline"]][-3:] == [
        "ORDER_HELD", "NOTE_ADDED", "TAGS_CHANGED"]
