"""Subscriptions over graphql-transport-ws with a real client (gql) against a real server:
every event, in order, once — live, replayed with `after`, and across a reconnect."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest

from domain.kernel import events
from tests.api import lifecycle
from tests.api.realtime import Follower, refusal, until, ws_client
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio
AT = "2030-01-02T09:30:00+00:00"
ADJUST = """mutation($d: Int!, $at: String = "ST-ROMA") { adjustInventory(input: {
  sku: "TSHIRT-BLU-M", location: $at, delta: $d, reason: "FOUND"}) { userErrors { code } } }"""
ORDER_STREAM = """subscription($n: String, $after: String, $email: String) {
  orderEvents(number: $n, after: $after, email: $email) {
    sequence type order { number status } tracking { number status }
    fulfillment { id status location { code } order { number } } } }"""
MILANO = {"line1": "Via Torino 1", "city": "Milano", "postalCode": "20123", "country": "IT",
          "latitude": 45.46, "longitude": 9.18}


async def _place(api, key: str, **changes) -> str:
    placed = (await api.data(PLACE, {"input": order_input(key, **changes)}))["placeOrder"]
    assert placed["userErrors"] == []
    return placed["order"]["number"]


async def _adjust(api, tokens, *deltas: int) -> None:
    for delta in deltas:
        result = await api.data(ADJUST, {"d": delta}, token=tokens["integration"])
        assert result["adjustInventory"]["userErrors"] == []


async def _fulfillment_id(api, tokens, number: str) -> str:
    query = "query($n: String!) { order(number: $n) { fulfillments { id } } }"
    [f] = (await api.data(query, {"n": number}, token=tokens["agent"]))["order"]["fulfillments"]
    return f["id"]


def _raw_id(global_id: str) -> str:
    kind, _, raw = base64.b64decode(global_id).decode().partition(":")
    assert kind == "Fulfillment"
    return raw


async def _emit(app, *new: events.Event) -> None:
    """Commit events as the lifecycle use cases will: through the unit of work."""
    async with app.state.deps.uow() as tx:
        tx.emit(*new)
        await tx.commit()


async def test_an_agent_follows_every_order_placed_in_order(live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)
    async with ws_client(live.ws_url, tokens["agent"]) as session, Follower(
            session, ops["OrderEvents"], {"number": None, "after": "0"}) as orders:
        numbers = [await _place(live.api, f"follow-all-{i:04d}") for i in range(3)]
        got = await orders.take(3)
        await orders.nothing_more()
    assert got == [{"sequence": str(i), "type": "ORDER_PLACED", "at": AT,
                    "order": {"number": n, "status": "ALLOCATED"}}
                   for i, n in enumerate(numbers, start=1)]


async def test_a_customer_follows_her_order_through_its_lifecycle(live, tokens):
    """Every step of the real lifecycle mutations reaches the owner's socket, in order."""
    await seed_contract_network(live.api, tokens)
    number = await _place(live.api, "lifecycle-0001")  # sourced to ST-ROMA
    fulfillment = await _fulfillment_id(live.api, tokens, number)
    store = tokens["store_roma"]
    async with ws_client(live.ws_url, tokens["ada"]) as session, Follower(
            session, ORDER_STREAM, {"n": number, "after": "0"}) as follower:
        assert [e["type"] for e in await follower.take(1)] == ["ORDER_PLACED"]
        for name, extra, token in (
                ("acceptFulfillment", {}, store), ("pickFulfillment", {}, store),
                ("packFulfillment", {}, store),
                ("shipFulfillment", {"carrier": "BRT", "trackingNumber": "BRT1"}, store),
                ("recordTrackingEvent", {"status": "DELIVERED",
                                         "at": "2030-01-03T11:20:00+01:00"},
                 tokens["integration"])):
            if "at" in extra:  # the carrier reports the delivery once it has happened
                lifecycle.clock_at(live.api, extra["at"])
            result = await lifecycle.step(live.api, name, fulfillment, token, **extra)
            assert result["userErrors"] == [], (name, result)
        got = await follower.take(5)
        await follower.nothing_more()
    assert [e["sequence"] for e in got] == ["2", "3", "4", "5", "6"]
    assert [(e["fulfillment"]["id"], e["fulfillment"]["location"]["code"]) for e in got] == [
        (fulfillment, "ST-ROMA")] * 5
    # each event carries the state at delivery time; the last one is the delivered order
    assert got[-1]["order"] == {"number": number, "status": "DELIVERED"}
    assert got[-1]["fulfillment"]["status"] == "DELIVERED"
    assert [e["type"] for e in got] == ["FULFILLMENT_ACCEPTED", "FULFILLMENT_PICKED",
                                       "FULFILLMENT_PACKED", "FULFILLMENT_SHIPPED",
                                       "TRACKING_DELIVERED"]


async def test_a_reconnecting_subscriber_gets_every_missed_event_exactly_once_in_order(
        live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)  # inventory events 1-3
    every = {"skus": None, "locations": None}
    async with ws_client(live.ws_url, tokens["integration"]) as session, Follower(
            session, ops["InventoryEvents"], {**every, "after": "0"}) as first:
        assert [e["sequence"] for e in await first.take(3)] == ["1", "2", "3"]
        await _adjust(live.api, tokens, 1)
        [last] = await first.take(1)
    assert (last["sequence"], last["onHand"]) == ("4", 7)
    await _adjust(live.api, tokens, 1, 2, 3, 4, 5)  # while nobody listens: 5 to 9
    async with ws_client(live.ws_url, tokens["integration"]) as session, Follower(
            session, ops["InventoryEvents"], {**every, "after": last["sequence"]}) as again:
        missed = await again.take(5)
        await _adjust(live.api, tokens, 1)
        live_one = await again.take(1)
        await again.nothing_more()
    assert [(e["sequence"], e["onHand"], e["available"]) for e in missed + live_one] == [
        ("5", 8, 8), ("6", 10, 10), ("7", 13, 13), ("8", 17, 17), ("9", 22, 22),
        ("10", 23, 23)]
    assert {e["location"]["code"] for e in missed} == {"ST-ROMA"}


async def test_events_committed_during_the_replay_are_delivered_once_in_order(live, tokens):
    await seed_contract_network(live.api, tokens)
    await _adjust(live.api, tokens, *[1] * 40)  # 3 + 40 events before anyone subscribes
    writer = asyncio.create_task(_adjust(live.api, tokens, *[1] * 40))  # 40 more meanwhile
    async with ws_client(live.ws_url, tokens["integration"]) as session, Follower(
            session, "subscription { inventoryEvents(after: \"0\") { sequence onHand } }",
            {}) as follower:
        got = await follower.take(83, within=30)
        await writer
        await follower.nothing_more()
    assert [int(e["sequence"]) for e in got] == list(range(1, 84))
    roma = [e["onHand"] for e in got[3:]]
    assert roma == list(range(7, 87))


async def test_without_after_only_events_from_now_on_are_delivered(live, tokens):
    await seed_contract_network(live.api, tokens)
    hub = live.app.state.realtime.hub
    async with ws_client(live.ws_url, tokens["integration"]) as session, Follower(
            session, "subscription { inventoryEvents { sequence onHand } }", {}) as follower:
        await until(lambda: hub.subscribers == 1)
        await _adjust(live.api, tokens, 2)
        assert await follower.take(1) == [{"sequence": "4", "onHand": 8}]
        await follower.nothing_more()


async def test_inventory_events_can_be_narrowed_to_skus_and_locations(live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)
    async with ws_client(live.ws_url, tokens["integration"]) as session, Follower(
            session, ops["InventoryEvents"], {"skus": ["LAMP-ARCO"], "locations": None,
                                              "after": "0"}) as lamps, Follower(
            session, ops["InventoryEvents"], {"skus": ["TSHIRT-BLU-M"],
                                              "locations": ["ST-ROMA"], "after": "0"}) as roma:
        await _adjust(live.api, tokens, 3)
        assert await lamps.take(1) == [{"sequence": "3", "sku": "LAMP-ARCO",
                                        "location": {"code": "WH-MIL"}, "onHand": 1,
                                        "reserved": 0, "available": 1}]
        got = await roma.take(2)
        await lamps.nothing_more(wait=0.2)
        await roma.nothing_more(wait=0.2)
    assert [(e["sequence"], e["onHand"]) for e in got] == [("2", 6), ("4", 9)]


async def test_a_store_follows_the_work_arriving_at_its_location(live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)
    async with ws_client(live.ws_url, tokens["store_mil"]) as session, Follower(
            session, ops["FulfillmentEvents"], {"location": "WH-MIL", "after": None}) as work:
        await until(lambda: live.app.state.realtime.hub.subscribers == 1)
        await _place(live.api, "roma-order-01")  # sourced from ST-ROMA: not for WH-MIL
        number = await _place(live.api, "milano-order-1", delivery={
            "method": "SHIP", "serviceLevel": "STANDARD", "address": MILANO})
        got = await work.take(1)
        await work.nothing_more()
    fulfillment = await _fulfillment_id(live.api, tokens, number)
    assert got == [{"sequence": "1", "type": "FULFILLMENT_CREATED", "fulfillment": {
        "id": fulfillment, "status": "ASSIGNED", "order": {"number": number}}}]


async def test_a_guest_with_the_orders_email_follows_it_with_the_guest_view(live, tokens):
    await seed_contract_network(live.api, tokens)
    number = await _place(live.api, "guest-order-01")
    async with ws_client(live.ws_url) as session, Follower(
            session, ORDER_STREAM, {"n": number, "after": "0",
                                    "email": "ADA@example.com"}) as follower:
        got = await follower.take(1)
    assert got == [{"sequence": "1", "type": "ORDER_PLACED", "order": None,
                    "tracking": {"number": number, "status": "ALLOCATED"},
                    "fulfillment": None}]


async def test_refusals_are_errors_with_a_code_on_the_subscription(live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)
    number = await _place(live.api, "refusals-0001")  # Ada's, fulfilled at ST-ROMA
    order, work = ops["OrderEvents"], ops["FulfillmentEvents"]
    cases = [
        (None, order, {"number": number}, "UNAUTHENTICATED"),
        (tokens["bob"], order, {"number": number}, "FORBIDDEN"),
        (tokens["bob"], order, {"number": "PR-999999"}, "FORBIDDEN"),
        (tokens["store_mil"], order, {"number": number}, "FORBIDDEN"),
        (tokens["agent"], order, {"number": "PR-999999"}, "NOT_FOUND"),
        (tokens["ada"], order, {"number": None}, "FORBIDDEN"),
        (None, order, {"number": None}, "UNAUTHENTICATED"),
        (tokens["store_roma"], work, {"location": "WH-MIL"}, "FORBIDDEN"),
        (tokens["ada"], work, {"location": "ST-ROMA"}, "FORBIDDEN"),
        (tokens["agent"], work, {"location": "NOWHERE"}, "UNKNOWN_LOCATION"),
        (tokens["agent"], order, {"number": number, "after": "abc"}, "INVALID_INPUT"),
        (tokens["agent"], ops["InventoryEvents"], {"skus": []}, "INVALID_INPUT"),
    ]
    fields = {order: "orderEvents", work: "fulfillmentEvents",
              ops["InventoryEvents"]: "inventoryEvents"}
    for token, document, variables, code in cases:
        error = await refusal(live.ws_url, token, document, variables)
        assert error["extensions"]["code"] == code, (variables, error)
        assert error["path"] == [fields[document]]
    allowed = await _follow_one(live, tokens["store_roma"], ORDER_STREAM,
                                {"n": number, "after": "0"})
    assert allowed["order"] == {"number": number, "status": "ALLOCATED"}


async def _follow_one(live, token, document, variables):
    async with ws_client(live.ws_url, token) as session, Follower(
            session, document, variables) as follower:
        [event] = await follower.take(1)
    return event


async def test_resuming_past_retention_requires_a_resync(live, tokens, contract, clock):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)  # inventory 1-3, now
    clock.current += timedelta(days=8)
    await _adjust(live.api, tokens, 1)  # inventory 4, eight days later
    assert await live.app.state.realtime.prune_once() == 2 * (3 + 2)  # 2 catalog, and $all
    for after in ("0", "2", "5"):
        error = await refusal(live.ws_url, tokens["integration"], ops["InventoryEvents"],
                              {"after": after})
        assert error["extensions"]["code"] == "RESYNC_REQUIRED", (after, error)
        assert error["path"] == ["inventoryEvents"]
    event = await _follow_one(live, tokens["integration"], ops["InventoryEvents"],
                              {"after": "3"})
    assert (event["sequence"], event["onHand"]) == ("4", 7)


async def test_subscribers_of_one_stream_share_one_load_of_each_batch(live, tokens, contract):
    ops, _ = contract
    await seed_contract_network(live.api, tokens)
    hub = live.app.state.realtime.hub
    async with ws_client(live.ws_url, tokens["agent"]) as session:
        followers = [Follower(session, ops["OrderEvents"], {"number": None}) for _ in range(5)]
        for follower in followers:
            await follower.__aenter__()
        try:
            await until(lambda: hub.subscribers == 5)
            seen = statement_counter(live.app.state.db)
            number = await _place(live.api, "shared-load-01")
            for follower in followers:
                assert await follower.take(1) == [{"sequence": "1", "type": "ORDER_PLACED",
                                                   "at": AT, "order": {
                                                       "number": number,
                                                       "status": "ALLOCATED"}}]
        finally:
            for follower in followers:
                await follower.__aexit__(None, None, None)
    by_number = [s for s in seen if "orders.number IN" in s]
    assert len(by_number) == 1, by_number


async def test_subscribers_asking_the_same_share_one_execution_of_each_event(live, tokens):
    await seed_contract_network(live.api, tokens)
    hub = live.app.state.realtime.hub
    document = """subscription { orderEvents { sequence
      order { number fulfillments { location { code name } } } } }"""
    async with ws_client(live.ws_url, tokens["agent"]) as first, \
            ws_client(live.ws_url, tokens["admin"]) as second:
        followers = [Follower(session, document, {}) for session in (first, second)
                     for _ in range(3)]
        for follower in followers:
            await follower.__aenter__()
        try:
            await until(lambda: hub.subscribers == 6)
            seen = statement_counter(live.app.state.db)
            number = await _place(live.api, "shared-exec-01")
            seen.clear()  # what placing the order read is not ours to count
            got = [await f.take(1) for f in followers]
        finally:
            for follower in followers:
                await follower.__aexit__(None, None, None)
    assert got == [[{"sequence": "1", "order": {"number": number, "fulfillments": [
        {"location": {"code": "ST-ROMA", "name": "Roma Via del Corso"}}]}}]] * 6
    # six subscribers, two connections: the locations are loaded by one execution, once
    assert len([s for s in seen if "FROM locations" in s]) == 1, seen


async def test_a_guest_and_the_owner_asking_the_same_still_get_their_own_view(live, tokens):
    await seed_contract_network(live.api, tokens)
    number = await _place(live.api, "views-0001")
    variables = {"n": number, "after": "0", "email": "ada@example.com"}
    async with ws_client(live.ws_url, tokens["ada"]) as owner, ws_client(live.ws_url) as guest, \
            Follower(owner, ORDER_STREAM, variables) as as_owner, \
            Follower(guest, ORDER_STREAM, variables) as as_guest:
        [mine] = await as_owner.take(1)
        [theirs] = await as_guest.take(1)
    assert mine["order"] == {"number": number, "status": "ALLOCATED"}
    assert mine["fulfillment"] is None and theirs["fulfillment"] is None
    assert theirs["order"] is None
    assert theirs["tracking"] == mine["tracking"] == {"number": number, "status": "ALLOCATED"}
