"""Every field of an order, and of everything reachable from it, answers each audience only
what its view of the order allows (domain/access: `order_view`, `answer_view`).

The order is given distinctive identities — the customer's email, phone and address lines,
the agent who placed it and the associates who worked on it — and every field of every type
reachable from an order is asked for (the selections are walked from the schema, so a field
added later is asked for too): through `order`, `orders`, `node(s)`, a location's work queue,
mutation payloads a store is answered with, `receiveReturn` at a drop-off store, and the
`orderEvents` and `fulfillmentEvents` subscriptions. None of the identities an audience's view
withholds may appear anywhere in its answer; the same documents asked by an agent show all of
them, so the canaries are known to be reachable. Beyond the canaries, no answer to a store, a
customer or a guest may hold any `role:subject` at all (`named`): an integration or an admin
that acted has no canary of its own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    is_object_type,
)
from graphql.pyutils import Undefined

from api.schema.order_types import Order
from api.schema.root import build_schema
from tests.api.lifecycle import step
from tests.api.realtime import Follower, ws_client
from tests.api.returns import seed
from tests.api.test_place_order import order_input
from tests.conftest import token

pytestmark = pytest.mark.anyio

CANARIES = {"email": "canary-email@example.com", "phone": "06 5550199",
            "line1": "Canary Street 1", "line2": "Canary Stair B",
            "agent": "canary-agent@promessa.example", "roma": "canary-roma@example.com",
            "mil": "canary-mil@example.com"}
CUSTOMER_DATA = {"email", "phone", "line1", "line2"}
STAFF_NAMES = {"agent", "roma", "mil"}  # who acted: agents and store associates
AGENT = token("agent", email=CANARIES["agent"])
ADA = token("customer", email=CANARIES["email"])
ROMA = token("store", email=CANARIES["roma"], locations=["ST-ROMA"])
MIL = token("store", email=CANARIES["mil"], locations=["WH-MIL"])
INTEGRATION = token("integration")
CUSTOMER = {"email": CANARIES["email"], "name": "Ada Canary", "phone": "+39 06 5550199"}
HOME = {"line1": CANARIES["line1"], "line2": CANARIES["line2"], "city": "Roma",
        "postalCode": "00184", "country": "IT", "latitude": 41.90, "longitude": 12.49}


def selection(type_name: str, path: tuple[str, ...] = ()) -> str:
    """Every field of `type_name` and, below it, of every object type it reaches (a type
    already on the path is not entered again: Fulfillment.order.fulfillments)."""
    kind = build_schema()._schema.get_type(type_name)
    assert isinstance(kind, GraphQLObjectType), type_name
    parts = []
    for name, field in kind.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
               for a in field.args.values()):
            continue  # no field of these types takes a required argument today
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif is_object_type(inner) and inner.name not in (*path, type_name):
            parts.append(f"{name} {{ {selection(inner.name, (*path, type_name))} }}")
        elif not is_object_type(inner):
            parts.append(f"{name} {{ __typename }}")
    return " ".join(parts)


def reached(type_name: str) -> set[str]:
    """The object types a selection of `type_name` walks through."""
    schema = build_schema()._schema
    seen: set[str] = set()

    def walk(name: str) -> None:
        seen.add(name)
        kind = schema.get_type(name)
        assert isinstance(kind, GraphQLObjectType)
        for field in kind.fields.values():
            inner = get_named_type(field.type)
            if is_object_type(inner) and inner.name not in seen:
                walk(inner.name)

    walk(type_name)
    return seen


def shown(answer: Any) -> set[str]:
    """Which canaries appear anywhere in an answer."""
    text = json.dumps(answer).lower()
    return {name for name, value in CANARIES.items() if value.lower() in text}


# how the ledgers name whoever acted (Principal.actor): `role:subject`; only staff may read one
ACTOR = re.compile(r"\b(?:customer|agent|store|admin|integration):[^\s\"]+")


def named(answer: Any) -> set[str]:
    """Every `role:subject` anywhere in an answer, canary or not (an integration's subject,
    the customer's own)."""
    return set(ACTOR.findall(json.dumps(answer)))


ORDER = f"query($n: String!) {{ order(number: $n) {{ {selection('Order')} }} }}"
SEARCH = f"query {{ orders(first: 10) {{ edges {{ node {{ {selection('Order')} }} }} }} }}"
NODES = f"""query($o: ID!, $f: [ID!]!) {{ order: node(id: $o) {{ ... on Order {{
  {selection('Order')} }} }} work: nodes(ids: $f) {{ ... on Fulfillment {{
  {selection('Fulfillment')} }} }} }}"""
QUEUE = f"""query($l: String!) {{ fulfillments(location: $l) {{ edges {{ node {{
  {selection('Fulfillment')} }} }} }} }}"""
TRACK = f"""query($n: String!, $e: String!) {{ trackOrder(number: $n, email: $e) {{
  {selection('TrackedOrder')} }} }}"""
ORDER_EVENTS = f"""subscription($n: String, $e: String) {{ orderEvents(number: $n, after: "0",
  email: $e) {{ {selection('OrderEvent')} }} }}"""
WORK_EVENTS = f"""subscription($l: String!) {{ fulfillmentEvents(location: $l, after: "0") {{
  {selection('FulfillmentEvent')} }} }}"""


def mutation(name: str, kind: str, payload: str) -> str:
    return f"mutation($input: {kind}!) {{ {name}(input: $input) {{ {selection(payload)} }} }}"


PLACE = mutation("placeOrder", "PlaceOrderInput", "PlaceOrderPayload")
RECEIVE = mutation("receiveReturn", "ReceiveReturnInput", "ReturnPayload")
REQUEST = mutation("requestReturn", "RequestReturnInput", "ReturnPayload")
STEPS = {name: mutation(name, kind, "FulfillmentPayload") for name, kind in (
    ("acceptFulfillment", "FulfillmentActionInput"), ("pickFulfillment", "FulfillmentActionInput"),
    ("packFulfillment", "FulfillmentActionInput"), ("shipFulfillment", "ShipFulfillmentInput"),
    ("rejectFulfillment", "RejectFulfillmentInput"))}
NOTE = """mutation($n: String!) { addOrderNote(input: {number: $n, text: "wrap it"}) {
  userErrors { code } } }"""


def test_the_walk_reaches_every_type_of_an_order_and_every_order_field_reads_the_view():
    assert {"Order", "Fulfillment", "Return", "TimelineEntry", "Customer", "Delivery",
            "Address", "OrderNote", "ReturnLabel", "TrackingEvent"} <= reached("Order")
    assert {"Order", "Fulfillment", "TrackedOrder"} <= reached("OrderEvent")
    for name in ("placedBy", "customer { email phone }", "delivery { address { line1 } }",
                 "timeline { actor }", "returns { requestedBy label { url } }",
                 "fulfillments { order { number } }"):
        head = name.split(" ", 1)[0]
        assert head in selection("Order"), name
    # the mechanism: Order keeps no value of its own but its id; every other field is a
    # resolver given the caller's view (api/schema/order_types.py `seen`)
    schema = build_schema()
    public = set(schema._schema.get_type("Order").fields)
    naming = schema.config.name_converter
    fields = {naming.get_graphql_name(f): f for f in Order.__strawberry_definition__.fields}
    assert public <= set(fields)
    assert sorted(name for name in public if fields[name].base_resolver is None) == ["id"]


async def place_canary_order(api, key: str, token_: str | None, **changes: Any) -> dict:
    got = await api.data(PLACE, {"input": order_input(key, customer=CUSTOMER, **{
        "delivery": {"method": "SHIP", "serviceLevel": "STANDARD", "address": HOME},
        **changes})}, token=token_)
    assert got["placeOrder"]["userErrors"] == [], got
    return got["placeOrder"]


async def work_at(api, number: str) -> dict[str, str]:
    """Location → its fulfillment's id."""
    found = await api.data("query($n: String!) { order(number: $n) { fulfillments { id "
                           "location { code } } } }", {"n": number}, token=AGENT)
    return {f["location"]["code"]: f["id"] for f in found["order"]["fulfillments"]}


async def _step(api, name: str, fid: str, token_: str, **extra: Any) -> dict:
    got = await api.data(STEPS[name], {"input": {"fulfillmentId": fid, **extra}}, token=token_)
    assert got[name]["userErrors"] == [], got
    return got


async def _split_order(api, tokens) -> tuple[str, list[dict]]:
    """An agent's order for the customer, split between ST-ROMA and WH-MIL, noted, tagged,
    accepted by both; and the payloads the two stores were answered with."""
    await seed(api, tokens)
    placed = await place_canary_order(api, "canary-split-1", AGENT,
                          lines=[{"sku": "TSHIRT-BLU-M", "quantity": 118}])
    number = placed["order"]["number"]
    assert shown(placed) == CUSTOMER_DATA | {"agent"}  # the agent is answered all of it
    noted = await api.data(NOTE, {"n": number}, token=AGENT)
    assert noted["addOrderNote"]["userErrors"] == []
    work = await work_at(api, number)
    assert set(work) == {"ST-ROMA", "WH-MIL"}
    answers = [await _step(api, "acceptFulfillment", work["ST-ROMA"], ROMA),
               await _step(api, "acceptFulfillment", work["WH-MIL"], MIL)]
    return number, answers


async def test_stores_customers_and_guests_read_no_identity_their_view_withholds(api, tokens):
    number, store_answers = await _split_order(api, tokens)
    whole = await api.data(ORDER, {"n": number}, token=AGENT)
    assert shown(whole) == set(CANARIES)
    assert named(whole) == {f"agent:{CANARIES['agent']}", f"store:{CANARIES['roma']}",
                            f"store:{CANARIES['mil']}"}
    # stores doing the work: where the parcels go, nobody's email, phone or name
    for answer in store_answers:
        assert shown(answer) == {"line1", "line2"} and named(answer) == set(), answer
    ids = {"o": whole["order"]["id"], "f": [f["id"] for f in whole["order"]["fulfillments"]]}
    for store, location in ((ROMA, "ST-ROMA"), (MIL, "WH-MIL")):
        seen = await api.data(ORDER, {"n": number}, token=store)
        assert seen["order"]["placedBy"] == "promessa"
        queue = await api.data(QUEUE, {"l": location}, token=store)
        by_id = await api.data(NODES, ids, token=store)
        assert by_id["order"] is not None and [n is not None for n in by_id["work"]] == [
            f["location"]["code"] == location for f in whole["order"]["fulfillments"]]
        for answer in (seen, queue, by_id):
            assert shown(answer) == {"line1", "line2"} and named(answer) == set(), answer
    # the customer: their own data, not the names of who acted for the retailer
    own = await api.data(ORDER, {"n": number}, token=ADA)
    assert own["order"]["placedBy"] == "promessa"
    assert {t["actor"] for t in own["order"]["timeline"]} <= {"customer", "guest", "promessa"}
    searched = await api.data(SEARCH, token=ADA)
    assert [e["node"]["number"] for e in searched["orders"]["edges"]] == [number]
    by_id = await api.data(NODES, ids, token=ADA)
    assert by_id["order"] is not None and all(n is not None for n in by_id["work"])
    for answer in (own, searched, by_id):
        assert shown(answer) == CUSTOMER_DATA and named(answer) == set(), answer
    # a guest with the number and the email
    tracked = await api.data(TRACK, {"n": number, "e": CANARIES["email"]})
    assert tracked["trackOrder"] is not None and shown(tracked) == set()
    assert named(tracked) == set()
    # who the customer is, and what else they ordered: staff only
    for caller in (ROMA, ADA):
        refused = await api.post('{ customer(email: "canary-email@example.com") { email } }',
                                 token=caller)
        assert refused["data"] == {"customer": None} and shown(refused) == set()
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_a_store_placing_an_order_is_answered_the_store_view(api, tokens):
    await seed(api, tokens)
    placed = await place_canary_order(api, "canary-store-1", ROMA, channel="store")
    assert placed["order"]["placedBy"] == "promessa"
    assert shown(placed) <= {"line1", "line2"} and named(placed) == set()


async def test_the_drop_off_store_receiving_a_return_learns_nothing_of_the_customer(
        api, tokens, clock):
    await seed(api, tokens)
    number = (await place_canary_order(api, "canary-return-1", AGENT, lines=[
        {"sku": "TSHIRT-RED-M", "quantity": 2}]))["order"]["number"]
    [(where, fid)] = (await work_at(api, number)).items()
    assert where == "WH-MIL"
    shipped = []
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        shipped.append(await _step(api, name, fid, MIL))
    shipped.append(await _step(api, "shipFulfillment", fid, MIL, carrier="BRT",
                               trackingNumber="BRT-canary-1"))
    assert all(shown(answer) == {"line1", "line2"} for answer in shipped), shipped
    clock.current = datetime(2030, 1, 3, 12, tzinfo=UTC)
    assert (await step(api, "recordTrackingEvent", fid, INTEGRATION, status="DELIVERED",
                       at="2030-01-03T11:20:00+01:00"))["userErrors"] == []
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    ret = {"orderNumber": number, "resolution": "REFUND", "method": "DROP_AT_STORE",
           "lines": [{"sku": "TSHIRT-RED-M", "quantity": 1, "reason": "TOO_SMALL"}]}
    asked = await api.data(REQUEST, {"input": ret}, token=AGENT)  # on the customer's behalf
    assert shown(asked) == CUSTOMER_DATA | {"agent", "mil"}
    guest = await api.data(REQUEST, {"input": {**ret, "email": CANARIES["email"]}})
    assert guest["requestReturn"]["userErrors"] == [] and shown(guest) == CUSTOMER_DATA
    returned = asked["requestReturn"]["return"]
    assert returned["receivingLocation"]["code"] == "ST-ROMA"

    received = await api.data(RECEIVE, {"input": {"returnNumber": returned["number"], "lines": [
        {"sku": "TSHIRT-RED-M", "condition": "RESTOCK"}]}}, token=ROMA)
    payload = received["receiveReturn"]
    assert payload["userErrors"] == [] and payload["return"]["status"] == "RECEIVED"
    assert payload["order"]["placedBy"] == "promessa"
    assert payload["order"]["delivery"]["address"] is None
    assert payload["order"]["fulfillments"] == []
    assert shown(received) == set() and named(received) == set()
    assert (await api.data(ORDER, {"n": number}, token=ROMA))["order"] is None
    # the order with its return: the warehouse that shipped it, and the customer (the agent
    # asked for the return, an integration recorded the delivery)
    for reader, allowed in ((MIL, {"line1", "line2"}), (ADA, CUSTOMER_DATA)):
        seen = await api.data(ORDER, {"n": number}, token=reader)
        assert [(r["status"], r["requestedBy"]) for r in seen["order"]["returns"]] == [
            ("RECEIVED", None), ("APPROVED", None)]  # the agent's, the guest's
        assert shown(seen) == allowed and named(seen) == set(), seen


async def test_followers_read_no_identity_their_view_withholds(live, tokens):
    api = live.api
    number, _ = await _split_order(api, tokens)
    followers = {"agent": (AGENT, ORDER_EVENTS, {"n": number, "e": None}),
                 "roma": (ROMA, ORDER_EVENTS, {"n": number, "e": None}),
                 "ada": (ADA, ORDER_EVENTS, {"n": number, "e": None}),
                 "guest": (None, ORDER_EVENTS, {"n": number, "e": CANARIES["email"]}),
                 "roma-work": (ROMA, WORK_EVENTS, {"l": "ST-ROMA"}),
                 "mil-work": (MIL, WORK_EVENTS, {"l": "WH-MIL"})}
    # the order's stream so far: placed, the note, two acceptances; each location's: its
    # work created and accepted
    wanted = {"agent": 4, "roma": 4, "ada": 4, "guest": 4, "roma-work": 2, "mil-work": 2}
    seen = {}
    for who, (token_, document, variables) in followers.items():
        async with ws_client(live.ws_url, token_) as session, \
                Follower(session, document, variables) as follower:
            seen[who] = await follower.take(wanted[who])
    assert shown(seen["agent"]) == set(CANARIES)
    assert all(named(seen[who]) == set() for who in seen if who != "agent"), seen
    assert shown(seen["roma"]) == {"line1", "line2"}
    assert any(e["fulfillment"] for e in seen["roma"])  # its own work's events
    assert {e["fulfillment"]["location"]["code"] for e in seen["roma"] if e["fulfillment"]} \
        == {"ST-ROMA"}
    assert all(e["tracking"] is None for e in seen["roma"])  # every shipment: not a store's
    assert shown(seen["ada"]) == CUSTOMER_DATA
    assert shown(seen["guest"]) == set()
    assert all(e["order"] is None and e["tracking"] for e in seen["guest"])
    for who in ("roma-work", "mil-work"):
        assert all(e["fulfillment"] for e in seen[who])
        assert shown(seen[who]) == {"line1", "line2"}, who
