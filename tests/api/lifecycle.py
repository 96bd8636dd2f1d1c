"""GraphQL documents and helpers the lifecycle tests share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from persistence.db import Database
from tests.api.test_place_order import PLACE, STOCK_READER, order_input

PAYLOAD = "fulfillment { id status carrier trackingNumber } order { number status } " \
          "userErrors { field message code }"
STEPS = {name: f"""mutation($input: {kind}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"""
         for name, kind in (("acceptFulfillment", "FulfillmentActionInput"),
                            ("rejectFulfillment", "RejectFulfillmentInput"),
                            ("rerouteFulfillment", "RerouteFulfillmentInput"),
                            ("pickFulfillment", "FulfillmentActionInput"),
                            ("packFulfillment", "FulfillmentActionInput"),
                            ("shipFulfillment", "ShipFulfillmentInput"),
                            ("markReadyForPickup", "FulfillmentActionInput"),
                            ("confirmPickup", "FulfillmentActionInput"),
                            ("recordTrackingEvent", "TrackingEventInput"))}
STEPS["recordTrackingEvent"] = STEPS["recordTrackingEvent"].replace(
    "userErrors {", "ignored ignoredReason userErrors {")
ORDER_PAYLOAD = "order { number status holdReason tags lines { sku status cancelled } } " \
                "userErrors { field message code }"
DESK = {name: f"""mutation($input: {kind}!) {{ {name}(input: $input) {{ {ORDER_PAYLOAD} }} }}"""
        for name, kind in (("cancelOrder", "CancelOrderInput"), ("holdOrder", "HoldOrderInput"),
                           ("releaseOrder", "ReleaseOrderInput"),
                           ("updateShippingAddress", "UpdateShippingAddressInput"),
                           ("addOrderNote", "AddOrderNoteInput"),
                           ("addOrderTags", "OrderTagsInput"),
                           ("removeOrderTags", "OrderTagsInput"))}
RECEIVE = """mutation($input: ReceiveIncomingInput!) { receiveIncoming(input: $input) {
  incoming { id receivedAt receivedQuantity } level { onHand reserved available }
  allocations { orderNumber quantity } userErrors { field message code } } }"""
EXPECT = """mutation($input: ExpectIncomingInput!) { expectIncoming(input: $input) {
  incoming { id } userErrors { code } } }"""
ORDER = """query($n: String!) { order(number: $n) { number status holdReason tags
  lines { sku quantity status backordered cancelled }
  fulfillments { id status location { code } carrier trackingNumber reason shippedAt
                 deliveredAt nextStatuses lines { sku quantity }
                 trackingEvents { status at location } }
  timeline { at type message actor actorRole before after } notes { author text } } }"""
TRACK = """query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { status
  fulfillments { status carrier trackingNumber trackingEvents { status } }
  timeline { type message } } }"""
LEVELS = """query { availability(skus: ["TSHIRT-BLU-M", "LAMP-ARCO"], channel: "web") {
  sku locations { location { code } onHand reserved } } }"""
ADDRESS = {"line1": "Via Appia 5", "city": "Roma", "postalCode": "00179", "country": "IT"}


async def place(api, key: str, token: str | None = None, **changes: Any) -> dict:
    result = (await api.data(PLACE, {"input": order_input(key, **changes)}, token=token))
    assert result["placeOrder"]["userErrors"] == [], result
    return result["placeOrder"]["order"]


async def order(api, number: str, token: str) -> dict:
    return (await api.data(ORDER, {"n": number}, token=token))["order"]


async def fulfillment_ids(api, number: str, token: str) -> dict[str, str]:
    """Location code → Fulfillment global id (one fulfillment per location here)."""
    return {f["location"]["code"]: f["id"] for f in (await order(api, number, token))[
        "fulfillments"]}


async def step(api, name: str, fulfillment_id: str, token: str | None, **extra: Any) -> dict:
    result = await api.data(STEPS[name], {"input": {"fulfillmentId": fulfillment_id, **extra}},
                            token=token)
    return result[name]


def clock_at(api, at: str) -> None:
    """Move the test clock on to `at` when it is behind: the server refuses a carrier scan
    dated after its clock (SCAN_IN_FUTURE), so a test that scans "tomorrow" lives tomorrow."""
    clock = api.app.state.deps.clock
    clock.current = max(clock.current, datetime.fromisoformat(at))


async def desk(api, name: str, token: str | None, **values: Any) -> dict:
    return (await api.data(DESK[name], {"input": values}, token=token))[name]


async def levels(api) -> dict[tuple[str, str], tuple[int, int]]:
    rows = (await api.data(LEVELS, token=STOCK_READER))["availability"]
    return {(r["sku"], x["location"]["code"]): (x["onHand"], x["reserved"])
            for r in rows for x in r["locations"]}


async def rows(db_url: str, sql: str, **params: Any) -> list[tuple]:
    db = Database(db_url)
    try:
        async with db.reader.connect() as conn:
            return [tuple(r) for r in (await conn.execute(sa.text(sql), params)).all()]
    finally:
        await db.dispose()


async def ledger(db_url: str, sku: str, location: str) -> list[tuple]:
    """(onHand delta, reserved delta, reason, reference) in the order they were written."""
    return await rows(db_url, "SELECT on_hand_delta, reserved_delta, reason, reference FROM "
                              "inventory_ledger WHERE sku = :s AND location = :l ORDER BY id",
                      s=sku, l=location)
