"""The contract documents of ../shared/contract run unchanged against the server."""

from __future__ import annotations

import base64
import copy
import filecmp

import pytest

from domain import events
from tests.api.realtime import Follower, until, ws_client
from tests.conftest import ROOT, contract_dir, seed_contract_network

pytestmark = pytest.mark.anyio

# Owned by later issues (delivery promise, lifecycle, real time); they must not be missing
# from the contract, only from this test until they land.
LATER = {"DeliveryPromise", "SourcingDecision", "LocationQueue", "AcceptFulfillment",
         "RejectFulfillment", "PickFulfillment", "PackFulfillment", "ShipFulfillment",
         "RecordTrackingEvent", "CancelOrder"}


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
               "OrderEvents", "InventoryEvents", "FulfillmentEvents"}
    assert set(ops) == covered | LATER
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
