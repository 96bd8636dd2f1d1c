"""The contract documents of ../shared/contract run unchanged against the server."""

from __future__ import annotations

import base64
import copy
import filecmp

import pytest

from domain.kernel import events
from tests.api.lifecycle import clock_at
from tests.api.realtime import Follower, until, ws_client
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import ROOT, contract_dir, seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio

# Every contract document is covered by a test below.
LIFECYCLE = {"LocationQueue", "AcceptFulfillment", "RejectFulfillment", "PickFulfillment",
             "PackFulfillment", "ShipFulfillment", "RecordTrackingEvent", "CancelOrder"}


def test_contract_snapshot_in_tests_equals_the_shared_contract():
    shared = ROOT.parent / "shared" / "contract"
    if not shared.is_dir():
        pytest.skip("../shared/contract is not beside this checkout")
    names = sorted(p.name for p in shared.iterdir())
    assert names == sorted(p.name for p in (ROOT / "tests" / "contract").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(shared, ROOT / "tests" / "contract", names,
                                               shallow=False)
    assert (mismatch, errors) == ([], [])


def test_every_contract_operation_is_covered_or_scheduled(contract):
    ops, examples = contract
    assert set(ops) == set(examples), "each operation has its example variables"
    covered = {"UpsertLocations", "UpsertSkus", "SetInventory", "AdjustInventory",
               "ExpectIncoming", "Availability", "PlaceOrder", "TrackOrder", "Order", "Orders",
               "DeliveryPromise", "SourcingDecision", "OrderEvents", "InventoryEvents",
               "FulfillmentEvents"}
    assert set(ops) == covered | LIFECYCLE
    assert contract_dir().is_dir()


async def test_catalog_inventory_storefront_and_order_documents_run_unchanged(
        api, tokens, contract):
    ops, ex = contract
    await seed_contract_network(api, tokens)

    level = (await api.data(ops["AdjustInventory"], ex["AdjustInventory"],
                            token=tokens["integration"]))["adjustInventory"]
    assert level["userErrors"] == []
    assert level["level"] == {"sku": "TSHIRT-BLU-M", "location": {"code": "ST-ROMA"},
                              "onHand": 5, "reserved": 0, "safetyStock": 0, "available": 5}

    incoming = (await api.data(ops["ExpectIncoming"], ex["ExpectIncoming"],
                               token=tokens["integration"]))["expectIncoming"]
    assert incoming["userErrors"] == []
    assert incoming["incoming"]["quantity"] == 10
    assert incoming["incoming"]["expectedAt"] == "2030-01-15T08:00:00+00:00"

    availability = (await api.data(ops["Availability"], ex["Availability"]))["availability"]
    shirt, lamp = availability
    assert shirt["sku"] == "TSHIRT-BLU-M"
    assert shirt["available"] == 115 + 5  # WH-MIL 120 − 5 safety, ST-ROMA 5
    assert [x["location"]["code"] for x in shirt["locations"]] == ["ST-ROMA"]  # within 50 km
    assert shirt["locations"][0]["distanceKm"] == pytest.approx(1.0, abs=0.5)
    assert lamp["available"] == 1 and lamp["locations"] == []
    assert lamp["incoming"] == [{"location": {"code": "WH-MIL"}, "quantity": 10,
                                 "expectedAt": "2030-01-15T08:00:00+00:00"}]

    placed = (await api.data(ops["PlaceOrder"], ex["PlaceOrder"]))["placeOrder"]
    assert placed["userErrors"] == []
    order = placed["order"]
    assert order["status"] == "ALLOCATED"
    # 2 × 19.90 + 4.90 standard shipping (free only from 49.00); Italian VAT is included
    assert order["total"] == {"amount": "44.70", "currency": "EUR"}
    assert order["lines"] == [{"sku": "TSHIRT-BLU-M", "quantity": 2, "status": "ALLOCATED"}]
    assert [f["location"]["code"] for f in order["fulfillments"]] == ["ST-ROMA"]
    number = order["number"]

    tracked = (await api.data(ops["TrackOrder"], {"number": number,
                                                  "email": "ada@example.com"}))["trackOrder"]
    assert tracked["number"] == number and tracked["status"] == "ALLOCATED"
    assert [e["type"] for e in tracked["timeline"]] == ["ORDER_PLACED", "ALLOCATED"]

    got = (await api.data(ops["Order"], {"number": number}, token=tokens["agent"]))["order"]
    assert got["number"] == number and got["customer"]["email"] == "ada@example.com"
    assert got["lines"][0]["unitPrice"] == {"amount": "19.90", "currency": "EUR"}
    assert got["timeline"][0]["actor"] == "guest"

    listed = (await api.data(ops["Orders"], ex["Orders"], token=tokens["agent"]))["orders"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == {"number": number, "status": "ALLOCATED",
                                          "customer": {"email": "ada@example.com"}}


def _with(example: dict, **values) -> dict:
    """The example's variables with its `<…>` placeholders filled in."""
    return {"input": {k: values.get(k, v) for k, v in example["input"].items()}}


async def test_lifecycle_documents_run_unchanged(api, tokens, contract, db_url):
    ops, ex = contract
    await seed_contract_network(api, tokens)
    # setup: nothing at the store, so the contract's order is the warehouse's work
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 0}]}) { userErrors { code } } }""",
                   token=tokens["integration"])
    number = (await api.data(ops["PlaceOrder"], ex["PlaceOrder"]))["placeOrder"]["order"][
        "number"]
    store = tokens["store_mil"]

    queue = (await api.data(ops["LocationQueue"], ex["LocationQueue"], token=store))
    edges = queue["fulfillments"]["edges"]
    assert [(e["node"]["status"], e["node"]["order"], e["node"]["lines"]) for e in edges] == [
        ("ASSIGNED", {"number": number}, [{"sku": "TSHIRT-BLU-M", "quantity": 2}])]
    fid = edges[0]["node"]["id"]

    for name, status in (("AcceptFulfillment", "ACCEPTED"), ("PickFulfillment", "PICKED"),
                         ("PackFulfillment", "PACKED")):
        payload = next(iter((await api.data(ops[name], _with(ex[name], fulfillmentId=fid),
                                            token=store)).values()))
        assert payload == {"fulfillment": {"id": fid, "status": status}, "userErrors": []}
    shipped = (await api.data(ops["ShipFulfillment"], _with(ex["ShipFulfillment"],
                                                            fulfillmentId=fid), token=store))
    assert shipped["shipFulfillment"] == {"fulfillment": {
        "id": fid, "status": "SHIPPED", "carrier": "BRT", "trackingNumber": "BRT123456789"},
        "userErrors": []}
    scan = _with(ex["RecordTrackingEvent"], fulfillmentId=fid)
    clock_at(api, scan["input"]["at"])  # the example's scan is dated the next morning
    for _ in range(2):  # a carrier resending the same scan changes nothing
        delivered = await api.data(ops["RecordTrackingEvent"], scan,
                                   token=tokens["integration"])
        assert delivered["recordTrackingEvent"] == {
            "fulfillment": {"id": fid, "status": "DELIVERED"}, "userErrors": []}
    assert (await api.data(ops["LocationQueue"], ex["LocationQueue"], token=store))[
        "fulfillments"]["edges"] == []
    order = (await api.data(ops["Order"], {"number": number}, token=tokens["agent"]))["order"]
    assert order["status"] == "DELIVERED"
    assert [t["type"] for t in order["timeline"]] == [
        "ORDER_PLACED", "ALLOCATED", "FULFILLMENT_ACCEPTED", "FULFILLMENT_PICKED",
        "FULFILLMENT_PACKED", "FULFILLMENT_SHIPPED", "TRACKING_DELIVERED"]

    second = (await api.data(PLACE, {"input": order_input("contract-second-1")}))[
        "placeOrder"]["order"]["number"]
    queued = (await api.data(ops["LocationQueue"], ex["LocationQueue"], token=store))
    other = queued["fulfillments"]["edges"][0]["node"]
    assert other["order"] == {"number": second}
    rejected = await api.data(ops["RejectFulfillment"], _with(
        ex["RejectFulfillment"], fulfillmentId=other["id"]), token=store)
    assert rejected["rejectFulfillment"] == {"fulfillment": {
        "id": other["id"], "status": "REJECTED"}, "userErrors": []}
    cancelled = await api.data(ops["CancelOrder"], _with(ex["CancelOrder"], number=second),
                               token=tokens["agent"])
    assert cancelled["cancelOrder"] == {"order": {"number": second, "status": "CANCELLED"},
                                        "userErrors": []}
    assert await violations(db_url) == []
async def test_delivery_promise_and_sourcing_decision_documents_run_unchanged(
        api, tokens, contract):
    ops, ex = contract
    await seed_contract_network(api, tokens)
    for name in ("AdjustInventory", "ExpectIncoming"):
        await api.data(ops[name], ex[name], token=tokens["integration"])

    # Wednesday 2 January 2030, 10:30 in Rome (the test clock); anonymous, as a storefront
    options = (await api.data(ops["DeliveryPromise"], ex["DeliveryPromise"])
               )["deliveryPromise"]["options"]
    by_kind = {(o["method"], o["serviceLevel"]): o for o in options}
    # no SAME_DAY: the lamp is only in Milan; fastest first
    assert list(by_kind) == [("SHIP", "EXPRESS"), ("PICKUP", None), ("SHIP", "STANDARD")]
    standard, express = by_kind[("SHIP", "STANDARD")], by_kind[("SHIP", "EXPRESS")]
    # one parcel from Milan (leaves at its 15:00 cut-off today), 2-3 days national
    assert standard["shipments"] == 1
    assert (standard["earliestDelivery"], standard["latestDelivery"]) == (
        "2030-01-04T08:00:00+00:00", "2030-01-07T17:00:00+00:00")
    assert standard["cost"] == {"amount": "0.00", "currency": "EUR"}  # free from 49.00
    assert express["cost"] == {"amount": "9.90", "currency": "EUR"}
    assert express["latestDelivery"] == "2030-01-04T17:00:00+00:00"
    assert standard["co2Grams"] == express["co2Grams"] > 0
    assert standard["lines"] == [
        {"sku": "TSHIRT-BLU-M", "quantity": 2, "availableOn": "2030-01-02T09:30:00+00:00"},
        {"sku": "LAMP-ARCO", "quantity": 1, "availableOn": "2030-01-02T09:30:00+00:00"}]
    # pickup at the Rome store: its own T-shirts, the lamp transferred from Milan
    pickup = by_kind[("PICKUP", None)]
    assert pickup["pickupLocation"] == {"code": "ST-ROMA", "name": "Roma Via del Corso"}
    assert pickup["shipments"] == 2 and pickup["cost"]["amount"] == "0.00"
    assert pickup["earliestDelivery"] == "2030-01-04T10:00:00+00:00"  # opens 9:00 + 2 h

    placed = (await api.data(ops["PlaceOrder"], ex["PlaceOrder"]))["placeOrder"]
    assert placed["userErrors"] == []
    assert placed["order"]["promisedDelivery"] == {"earliest": "2030-01-03T08:00:00+00:00",
                                                   "latest": "2030-01-04T17:00:00+00:00"}
    number = placed["order"]["number"]

    decision = (await api.data(ops["SourcingDecision"], {"orderNumber": number},
                               token=tokens["agent"]))["sourcingDecision"]
    assert decision == {
        "strategy": "LOWEST_COST",
        "chosen": [{"location": {"code": "ST-ROMA"},
                    "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 2}]}],
        "candidates": [
            # 5.00 + 0.50/kg × 0.4 kg, no carrier surcharge locally
            {"location": {"code": "ST-ROMA"}, "score": 5.2, "rejectedBecause": []},
            # 5.00 + 2.50 national + 0.70/kg × 0.4 kg
            {"location": {"code": "WH-MIL"}, "score": 7.78,
             "rejectedBecause": ["HIGHER_SCORE"]}]}
async def test_subscription_documents_run_unchanged_over_graphql_transport_ws(
        live, tokens, contract):
    ops, ex = contract
    await seed_contract_network(live.api, tokens)
    hub = live.app.state.realtime.hub
    placed = (await live.api.data(ops["PlaceOrder"], ex["PlaceOrder"]))["placeOrder"]
    number = placed["order"]["number"]
    order_vars = {**ex["OrderEvents"], "number": number}
    assert ex["OrderEvents"]["number"] == "<number returned by PlaceOrder>"
    milano = copy.deepcopy(ex["PlaceOrder"])
    milano["input"]["idempotencyKey"] = "c0ffee00-0000-4000-8000-00000000m11a"
    milano["input"]["delivery"]["address"].update(
        city="Milano", postalCode="20123", latitude=45.46, longitude=9.18)

    async with ws_client(live.ws_url, tokens["ada"]) as ada, \
            ws_client(live.ws_url, tokens["integration"]) as erp, \
            ws_client(live.ws_url, tokens["store_mil"]) as store, \
            Follower(ada, ops["OrderEvents"], order_vars) as order_events, \
            Follower(erp, ops["InventoryEvents"], ex["InventoryEvents"]) as stock_events, \
            Follower(store, ops["FulfillmentEvents"], ex["FulfillmentEvents"]) as work:
        await until(lambda: hub.subscribers == 3)
        adjusted = await live.api.data(ops["AdjustInventory"], ex["AdjustInventory"],
                                       token=tokens["integration"])
        assert adjusted["adjustInventory"]["userErrors"] == []
        second = (await live.api.data(ops["PlaceOrder"], milano))["placeOrder"]
        assert second["userErrors"] == []
        # until the lifecycle mutations land, a step of it enters the outbox as they will
        order = (await live.api.data(ops["Order"], {"number": number},
                                     token=tokens["agent"]))["order"]
        fulfillment = base64.b64decode(order["fulfillments"][0]["id"]).decode().split(":")[1]
        async with live.app.state.deps.uow() as tx:
            tx.emit(events.Event("FULFILLMENT_ACCEPTED", live.app.state.deps.clock.now(),
                                 (events.order_stream(number),),
                                 {"order": number, "fulfillment": fulfillment}))
            await tx.commit()

        assert await order_events.take(1) == [{
            "sequence": "2", "type": "FULFILLMENT_ACCEPTED", "at": "2030-01-02T09:30:00+00:00",
            "order": {"number": number, "status": "ALLOCATED"}}]
        assert await stock_events.take(2) == [
            {"sequence": "5", "sku": "TSHIRT-BLU-M", "location": {"code": "ST-ROMA"},
             "onHand": 5, "reserved": 2, "available": 3},
            {"sequence": "6", "sku": "TSHIRT-BLU-M", "location": {"code": "WH-MIL"},
             "onHand": 120, "reserved": 2, "available": 113}]
        [created] = await work.take(1)
        assert created["sequence"] == "1" and created["type"] == "FULFILLMENT_CREATED"
        assert created["fulfillment"]["status"] == "ASSIGNED"
        assert created["fulfillment"]["order"] == {"number": second["order"]["number"]}
