"""Every userErrors.field is the path inside the mutation's `input`, as the contract's
examples show — whichever layer refused (issue 16 #6): the API's gate (text checks) and the
use cases' own checks agree, and the path names the very value that was refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.lifecycle import fulfillment_ids, place, step
from tests.api.returns import delivered_order, seed
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio

ROMA = {"line1": "Via Appia 5", "city": "Roma", "postalCode": "00179", "country": "IT",
        "latitude": 41.87, "longitude": 12.52}
NEW_STORE = {"code": "ST-NEW", "name": "New store", "type": "STORE", "address": ROMA,
             "capabilities": ["SHIP"], "channels": ["web"]}
NEW_SKU = {"sku": "NEW-1", "name": "New", "productGroup": "apparel"}
LATER = "2030-02-01T09:00:00+00:00"


@pytest.mark.parametrize(("customer", "field"), [
    ({"name": "ada\x00", "email": "ada@example.com"}, ["customer", "name"]),  # the API's gate
    ({"name": "Ada", "email": "not-an-email"}, ["customer", "email"]),  # the use case
])
async def test_user_error_fields_are_paths_inside_input(api, tokens, customer, field):
    await seed_contract_network(api, tokens)

    placed = await api.data(PLACE, {"input": order_input("path-key-0001", customer=customer)},
                            token=tokens["agent"])

    assert [e["field"] for e in placed["placeOrder"]["userErrors"]] == [field]


def cases(number: str, assigned: str, delivered: str, packed: str, shipped: str
          ) -> list[tuple]:
    """(mutation, input type, caller, input, the code and field it must be refused with):
    one invalid value per mutation with validation, at the top of the input and nested in
    lists and objects."""
    order = order_input
    return [
        ("placeOrder", "PlaceOrderInput", "agent",
         order("sweep-key-0001", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1},
                                        {"sku": "TSHIRT-BLU-M", "quantity": 0}]),
         "INVALID_QUANTITY", ["lines", "1", "quantity"]),
        ("placeOrder", "PlaceOrderInput", "agent",
         order("sweep-key-0002", delivery={"method": "SHIP", "serviceLevel": "STANDARD",
                                           "address": {**ROMA, "postalCode": "ROMA"}}),
         "INVALID_ADDRESS", ["delivery", "address", "postalCode"]),
        ("placeOrder", "PlaceOrderInput", "agent",
         order("sweep-key-0003", customer={"email": "ada@example.com", "name": "Ada",
                                           "phone": "06\x07"}),
         "INVALID_INPUT", ["customer", "phone"]),
        ("placeOrder", "PlaceOrderInput", "agent",  # lines of one SKU are merged: still line 2
         order("sweep-key-0004", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1},
                                        {"sku": "TSHIRT-BLU-M", "quantity": 1},
                                        {"sku": "NOPE", "quantity": 1}]),
         "UNKNOWN_SKU", ["lines", "2", "sku"]),
        ("placeOrders", "PlaceOrdersInput", "integration",
         {"orders": [order("sweep-key-0005"),
                     order("sweep-key-0006", customer={"email": "ada\x00@example.com",
                                                       "name": "Ada"})]},
         "INVALID_INPUT", ["orders", "1", "customer", "email"]),
        ("updateShippingAddress", "UpdateShippingAddressInput", "agent",
         {"number": number, "address": {**ROMA, "postalCode": "ROMA"}},
         "INVALID_ADDRESS", ["address", "postalCode"]),
        ("cancelOrder", "CancelOrderInput", "agent",
         {"number": number, "reason": "CUSTOMER_REQUEST", "skus": ["TSHIRT-BLU-M", "NOPE"]},
         "INVALID_INPUT", ["skus", "1"]),
        ("holdOrder", "HoldOrderInput", "agent", {"number": number, "reason": ""},
         "INVALID_INPUT", ["reason"]),
        ("addOrderNote", "AddOrderNoteInput", "agent", {"number": number, "text": ""},
         "INVALID_INPUT", ["text"]),
        ("createWebhookEndpoint", "CreateWebhookEndpointInput", "admin",
         {"url": "ftp://example.com/hook"}, "INVALID_URL", ["url"]),
        ("createWebhookEndpoint", "CreateWebhookEndpointInput", "admin",
         {"url": "https://example.com/hook", "eventTypes": ["ORDER_PLACED", "ORDER_PLCED"]},
         "UNKNOWN_EVENT_TYPE", ["eventTypes", "1"]),
        ("upsertSkus", "UpsertSkusInput", "admin",
         {"skus": [NEW_SKU, {**NEW_SKU, "sku": "NEW-2", "weightGrams": -1}]},
         "INVALID_INPUT", ["skus", "1", "weightGrams"]),
        ("upsertSkus", "UpsertSkusInput", "admin",
         {"skus": [{**NEW_SKU, "prices": [{"amount": "1.00", "currency": "EUR"},
                                          {"amount": "-1", "currency": "USD"}]}]},
         "INVALID_INPUT", ["skus", "0", "prices", "1", "amount"]),
        ("upsertLocations", "UpsertLocationsInput", "admin",
         {"locations": [{**NEW_STORE, "cutoffTime": "25:00"}]},
         "INVALID_INPUT", ["locations", "0", "cutoffTime"]),
        ("upsertLocations", "UpsertLocationsInput", "admin",
         {"locations": [{**NEW_STORE, "openingHours": {"weekly": [
             {"day": "MONDAY", "opens": "09:00", "closes": "13:00"},
             {"day": "MONDAY", "opens": "15:00", "closes": "7pm"}]}}]},
         "INVALID_INPUT", ["locations", "0", "openingHours", "weekly", "1", "closes"]),
        ("setInventory", "SetInventoryInput", "admin",
         {"levels": [{"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 3},
                     {"sku": "NOPE", "location": "WH-MIL", "onHand": 1}]},
         "UNKNOWN_SKU", ["levels", "1", "sku"]),
        ("setInventory", "SetInventoryInput", "admin",
         {"levels": [{"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": -1}]},
         "INVALID_QUANTITY", ["levels", "0", "onHand"]),
        ("adjustInventory", "AdjustInventoryInput", "admin",
         {"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "delta": 0, "reason": "DAMAGED"},
         "INVALID_QUANTITY", ["delta"]),
        ("adjustInventory", "AdjustInventoryInput", "admin",
         {"sku": "TSHIRT-BLU-M", "location": "WH-NOPE", "delta": 1, "reason": "FOUND"},
         "UNKNOWN_LOCATION", ["location"]),
        ("expectIncoming", "ExpectIncomingInput", "admin",
         {"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "quantity": 0, "expectedAt": LATER},
         "INVALID_QUANTITY", ["quantity"]),
        ("requestReturn", "RequestReturnInput", "agent",
         {"orderNumber": delivered, "resolution": "REFUND", "method": "SHIP_BACK",
          "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"},
                    {"sku": "LAMP-ARCO", "quantity": 1, "reason": "TOO_SMALL"}]},
         "NOT_FOUND", ["lines", "1", "sku"]),
        ("requestReturn", "RequestReturnInput", "agent",
         {"orderNumber": delivered, "resolution": "REFUND", "method": "SHIP_BACK",
          "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 9, "reason": "TOO_SMALL"}]},
         "QUANTITY_EXCEEDS_RETURNABLE", ["lines", "0", "quantity"]),
        ("refundReturn", "RefundReturnInput", "agent", {"returnNumber": "RMA-NOPE"},
         "NOT_FOUND", ["returnNumber"]),
        ("shipFulfillment", "ShipFulfillmentInput", "store_roma",
         {"fulfillmentId": packed, "carrier": "", "trackingNumber": "BRT1"},
         "INVALID_INPUT", ["carrier"]),
        ("rerouteFulfillment", "RerouteFulfillmentInput", "agent",
         {"fulfillmentId": assigned, "reason": "store closed", "toLocation": "WH-NOPE"},
         "UNKNOWN_LOCATION", ["toLocation"]),
        ("recordTrackingEvent", "TrackingEventInput", "integration",
         {"fulfillmentId": shipped, "status": "IN_TRANSIT", "at": "2031-01-01T00:00:00Z"},
         "SCAN_IN_FUTURE", ["at"]),
        ("recordTrackingEvent", "TrackingEventInput", "integration",
         {"fulfillmentId": shipped, "status": "IN_TRANSIT", "at": "2030-01-02T09:00:00Z",
          "expectedDelivery": LATER},
         "INVALID_INPUT", ["expectedDelivery"]),
        ("updateChannel", "UpdateChannelInput", "admin", {"code": "web", "brandColor": "blue"},
         "INVALID_INPUT", ["brandColor"]),
        ("updateWebhookEndpoint", "UpdateWebhookEndpointInput", "admin",
         {"id": "nope", "url": "https://example.com/hook"}, "NOT_FOUND", ["id"]),
        ("receiveIncoming", "ReceiveIncomingInput", "admin", {"incomingId": "nope"},
         "NOT_FOUND", ["incomingId"]),
        ("upsertSourcingPolicy", "SourcingPolicyInput", "admin",
         {"channel": "web", "strategy": "BALANCED", "maxShipments": 0},
         "INVALID_INPUT", ["maxShipments"]),
        ("scheduleLocationDowntime", "ScheduleDowntimeInput", "admin",
         {"location": "WH-MIL", "startsAt": LATER, "endsAt": "2030-01-31T09:00:00+00:00",
          "reason": "inventory count"},
         "INVALID_INPUT", ["endsAt"]),
    ]


def at_path(value: Any, path: list[str]) -> Any:
    """What `path` names inside `value` (KeyError/IndexError when it names nothing)."""
    for step_ in path:
        value = value[int(step_)] if isinstance(value, list) else value[step_]
    return value


@pytest.fixture
async def scene(api, tokens) -> tuple[str, str, str, str, str]:
    """An order still at its store (and its ASSIGNED fulfillment), a delivered one, a packed
    and a shipped fulfillment."""
    await seed(api, tokens)
    delivered = await delivered_order(api, tokens, "sweep-delivered",
                                      [{"sku": "TSHIRT-BLU-M", "quantity": 1}])
    number = (await place(api, "sweep-open-0001"))["number"]
    assigned = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    fids = []
    for key in ("sweep-packed-01", "sweep-shipped-1"):
        placed = (await place(api, key, lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1}]))[
            "number"]
        fid = (await fulfillment_ids(api, placed, tokens["agent"]))["ST-ROMA"]
        for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
            assert (await step(api, name, fid, tokens["store_roma"]))["userErrors"] == []
        fids.append(fid)
    shipped = await step(api, "shipFulfillment", fids[1], tokens["store_roma"], carrier="BRT",
                         trackingNumber="BRT-SWEEP")
    assert shipped["userErrors"] == []
    return number, assigned, delivered, fids[0], fids[1]


async def test_every_mutation_names_the_refused_value_by_its_path_inside_input(api, tokens,
                                                                               scene):
    found, expected = [], []
    for name, kind, caller, value, code, field in cases(*scene):
        result = await api.data(
            f"mutation($input: {kind}!) {{ {name}(input: $input) "
            "{ userErrors { field code message } } }", {"input": value},
            token=tokens[caller])
        errors = result[name]["userErrors"]
        found.append((name, [(e["code"], e["field"]) for e in errors]))
        expected.append((name, [(code, field)]))
        for e in errors:  # the path names a value that was sent, never starting at "input"
            assert e["field"][0] != "input" and at_path(value, e["field"]) is not None, e

    assert found == expected


async def test_an_order_refused_in_a_batch_names_the_path_inside_its_own_input(api, tokens):
    await seed_contract_network(api, tokens)
    refused = order_input("batch-path-0002", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1},
                                                   {"sku": "TSHIRT-BLU-M", "quantity": 1},
                                                   {"sku": "NOPE", "quantity": 1}])

    placed = (await api.data("""mutation($input: PlaceOrdersInput!) { placeOrders(input: $input)
      { results { order { number } userErrors { field code } } userErrors { field } } }""",
                             {"input": {"orders": [order_input("batch-path-0001"), refused]}},
                             token=tokens["integration"]))["placeOrders"]

    assert placed["userErrors"] == []
    assert placed["results"][0]["userErrors"] == []
    assert placed["results"][1] == {"order": None, "userErrors": [
        {"field": ["lines", "2", "sku"], "code": "UNKNOWN_SKU"}]}
