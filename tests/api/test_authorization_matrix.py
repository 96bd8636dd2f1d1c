"""The authorization matrix: every Query, Mutation and Subscription field, enumerated from the
schema itself, × every kind of caller, executed against the app on both engines.

A root field with no expectation here (or no rule in domain/access/__init__.py ENTRY_POINTS) fails
`test_every_root_field_has_a_rule_and_an_expectation`: nobody adds an unguarded entry point.
Each cell runs a representative operation and checks the caller is let in (no FORBIDDEN or
UNAUTHENTICATED anywhere; business refusals are fine), refused with the stable code, or let in
but shown nothing of an object that is not theirs (null, or NOT_FOUND for a mutation). A
refused mutation changes nothing in the database.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from api.schema.root import build_schema
from domain.access import ENTRY_POINTS
from persistence.db import Database
from persistence.tables import METADATA
from tests.api.lifecycle import ADDRESS, place
from tests.api.realtime import Follower, refusal, until, ws_client
from tests.api.returns import delivered_order, seed
from tests.conftest import load_examples

pytestmark = pytest.mark.anyio

ROLES = ("anonymous", "ada", "bob", "store_roma", "store_mil", "agent", "integration", "admin")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"agent", "integration", "admin"})
DESK = frozenset({"agent", "admin"})
ROMA = frozenset({"store_roma"})
STORES = frozenset({"store_roma", "store_mil"})
CUSTOMERS = frozenset({"ada", "bob"})
AUTH_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}
DESTINATION = ('{line1: "Via Nazionale 10", city: "Roma", postalCode: "00184", country: "IT", '
               'latitude: 41.9, longitude: 12.49}')
LINE = '[{sku: "TSHIRT-BLU-M", quantity: 1}]'
WEBHOOKS = frozenset({"integration", "admin"})
NO_ENDPOINT = "00000000-0000-0000-0000-000000000000"


@dataclass
class World:
    """What the operations act on: ada's order, sourced to ST-ROMA, and a receipt there."""

    number: str
    order_id: str
    fulfillment_id: str
    incoming_id: str
    location_id: str
    delivered: str  # ada's delivered order (from WH-MIL)
    return_number: str  # ada's return of one unit of it, requested


@dataclass(frozen=True)
class Case:
    document: str
    variables: Callable[[World, str], dict[str, Any]]
    allowed: frozenset[str]
    hidden: frozenset[str] = frozenset()  # let in, but the object is not theirs to see

    def expected(self, role: str) -> str:
        if role in self.hidden:
            return "HIDDEN"
        if role in self.allowed:
            return "OK"
        return "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"


def none(_w: World, _role: str) -> dict[str, Any]:
    return {}


def number(w: World, _role: str) -> dict[str, Any]:
    return {"n": w.number}


def fulfillment(**extra: Any) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, _role: {"input": {"fulfillmentId": w.fulfillment_id, **extra}}


def order_input(**extra: Any) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, _role: {"input": {"number": w.number, **extra}}


def a_return(**extra: Any) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, _role: {"input": {"returnNumber": w.return_number, **extra}}


def mutation(name: str, kind: str, payload: str = "userErrors { code }") -> str:
    return f"mutation($input: {kind}!) {{ {name}(input: $input) {{ {payload} }} }}"


def _place_input(_w: World, role: str) -> dict[str, Any]:
    from tests.api.test_place_order import order_input as placing

    return {"input": placing(f"matrix-place-{role}")}


def _place_many_input(_w: World, role: str) -> dict[str, Any]:
    from tests.api.test_place_order import order_input as placing

    return {"input": {"orders": [placing(f"matrix-batch-{role}")]}}


QUERIES: dict[str, Case] = {
    "locations": Case("{ locations { code } }", none, EVERYONE),
    "skus": Case("{ skus(first: 2) { totalCount } }", none, EVERYONE),
    "channels": Case("{ channels { code } }", none, EVERYONE),
    "availability": Case('{ availability(skus: ["TSHIRT-BLU-M"], channel: "web") { available } }',
                         none, EVERYONE),
    "deliveryPromise": Case(f"""{{ deliveryPromise(input: {{channel: "web", lines: {LINE},
        destination: {DESTINATION}}}) {{ options {{ method }} }} }}""", none, EVERYONE),
    "node": Case("query($id: ID!) { node(id: $id) { id } }",
                 lambda w, _r: {"id": w.location_id}, EVERYONE),
    "nodes": Case("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                  lambda w, _r: {"ids": [w.location_id]}, EVERYONE),
    "order": Case("query($n: String!) { order(number: $n) { number } }", number,
                  STAFF | ROMA | {"ada"}, hidden=frozenset({"bob", "store_mil"})),
    "orders": Case("{ orders(first: 5) { totalCount } }", none, STAFF | CUSTOMERS),
    "trackOrder": Case("""query($n: String!) { trackOrder(number: $n, email: "ada@example.com")
        { number } }""", number, EVERYONE),
    "customer": Case('{ customer(email: "ada@example.com") { email } }', none, DESK),
    "fulfillments": Case('{ fulfillments(location: "ST-ROMA") { totalCount } }', none,
                         STAFF | ROMA),
    "sourcingDecision": Case("query($n: String!) { sourcingDecision(orderNumber: $n) { kind } }",
                             number, DESK),
    "sourcingDecisions": Case(
        "query($n: String!) { sourcingDecisions(orderNumber: $n) { kind } }", number, DESK),
    "simulateSourcing": Case(f"""{{ simulateSourcing(input: {{channel: "web", lines: {LINE},
        address: {DESTINATION}}}) {{ kind }} }}""", none, DESK),
    "sourcingPolicies": Case("{ sourcingPolicies { channel } }", none, frozenset({"admin"})),
    "locationDowntime": Case('{ locationDowntime(location: "ST-ROMA") { id } }', none,
                             STAFF | STORES),
    "operationsMetrics": Case("""{ operationsMetrics(from: "2030-01-01T00:00:00+00:00",
        to: "2030-02-01T00:00:00+00:00") { ordersPlaced } }""", none, DESK),
    "returnEligibility": Case(
        "query($n: String!) { returnEligibility(orderNumber: $n) { orderNumber } }",
        lambda w, _r: {"n": w.delivered}, DESK | {"ada"},
        hidden=frozenset({"bob", "anonymous"})),  # a guest proves it with the order's email
    "webhookEndpoints": Case("{ webhookEndpoints { id } }", none, WEBHOOKS),
    "webhookDeliveries": Case(
        "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }",
        lambda _w, _r: {"id": NO_ENDPOINT}, WEBHOOKS, hidden=WEBHOOKS),  # not theirs: none
    "parkedEvents": Case("{ parkedEvents { totalCount } }", none, frozenset({"admin"})),
}

WORKERS = STAFF - {"agent"} | ROMA
MUTATIONS: dict[str, Case] = {
    "upsertLocations": Case(
        mutation("upsertLocations", "UpsertLocationsInput"),
        lambda _w, _r: {"input": {"locations": load_examples()["UpsertLocations"]["input"][
            "locations"][1:2]}}, frozenset({"integration", "admin"})),
    "upsertSkus": Case(mutation("upsertSkus", "UpsertSkusInput"), lambda _w, _r: {"input": {
        "skus": [{"sku": "MATRIX-1", "name": "Matrix", "productGroup": "misc"}]}},
        frozenset({"integration", "admin"})),
    "setInventory": Case(mutation("setInventory", "SetInventoryInput"), lambda _w, _r: {
        "input": {"levels": [{"sku": "TSHIRT-BLU-M", "location": "ST-ROMA", "onHand": 50}]}},
        WORKERS),
    "adjustInventory": Case(mutation("adjustInventory", "AdjustInventoryInput"), lambda _w, _r: {
        "input": {"sku": "TSHIRT-BLU-M", "location": "ST-ROMA", "delta": 1, "reason": "FOUND"}},
        WORKERS),
    "expectIncoming": Case(mutation("expectIncoming", "ExpectIncomingInput"), lambda _w, _r: {
        "input": {"sku": "TSHIRT-BLU-M", "location": "ST-ROMA", "quantity": 1,
                  "expectedAt": "2030-02-01T09:00:00+01:00"}}, WORKERS),
    "receiveIncoming": Case(mutation("receiveIncoming", "ReceiveIncomingInput"),
                            lambda w, _r: {"input": {"incomingId": w.incoming_id}}, WORKERS),
    "placeOrder": Case(mutation("placeOrder", "PlaceOrderInput"), _place_input,
                       EVERYONE - {"bob"}),  # bob: not for ada's email
    # each order's own refusals are inside its result: codes_in reads them too
    "placeOrders": Case(mutation("placeOrders", "PlaceOrdersInput",
                                 "results { userErrors { code } } userErrors { code }"),
                        _place_many_input, STAFF),
    "acceptFulfillment": Case(mutation("acceptFulfillment", "FulfillmentActionInput"),
                              fulfillment(), WORKERS),
    "rejectFulfillment": Case(mutation("rejectFulfillment", "RejectFulfillmentInput"),
                              fulfillment(reason="DAMAGED"), WORKERS),
    "pickFulfillment": Case(mutation("pickFulfillment", "FulfillmentActionInput"),
                            fulfillment(), WORKERS),
    "packFulfillment": Case(mutation("packFulfillment", "FulfillmentActionInput"),
                            fulfillment(), WORKERS),
    "shipFulfillment": Case(mutation("shipFulfillment", "ShipFulfillmentInput"),
                            fulfillment(carrier="BRT", trackingNumber="BRT1"), WORKERS),
    "markReadyForPickup": Case(mutation("markReadyForPickup", "FulfillmentActionInput"),
                               fulfillment(), WORKERS),
    "confirmPickup": Case(mutation("confirmPickup", "FulfillmentActionInput"),
                          fulfillment(), WORKERS),
    "recordTrackingEvent": Case(mutation("recordTrackingEvent", "TrackingEventInput"),
                                fulfillment(status="IN_TRANSIT", at="2030-01-02T12:00:00+01:00"),
                                frozenset({"integration", "admin"})),
    "cancelOrder": Case(mutation("cancelOrder", "CancelOrderInput"),
                        order_input(reason="CUSTOMER_REQUEST"), DESK | {"ada"},
                        hidden=frozenset({"bob"})),
    "holdOrder": Case(mutation("holdOrder", "HoldOrderInput"), order_input(reason="FRAUD"), DESK),
    "releaseOrder": Case(mutation("releaseOrder", "ReleaseOrderInput"), order_input(), DESK),
    "updateShippingAddress": Case(mutation("updateShippingAddress", "UpdateShippingAddressInput"),
                                  order_input(address=ADDRESS), DESK),
    "addOrderNote": Case(mutation("addOrderNote", "AddOrderNoteInput"), order_input(text="hi"),
                         DESK),
    "addOrderTags": Case(mutation("addOrderTags", "OrderTagsInput"), order_input(tags=["VIP"]),
                         DESK),
    "removeOrderTags": Case(mutation("removeOrderTags", "OrderTagsInput"),
                            order_input(tags=["VIP"]), DESK),
    "upsertSourcingPolicy": Case(mutation("upsertSourcingPolicy", "SourcingPolicyInput"),
                                 lambda _w, _r: {"input": {"channel": "web",
                                                           "strategy": "LOWEST_COST"}},
                                 frozenset({"admin"})),
    "rerouteFulfillment": Case(mutation("rerouteFulfillment", "RerouteFulfillmentInput"),
                               fulfillment(reason="STORE_CLOSED_EARLY"), DESK),
    "requestReturn": Case(mutation("requestReturn", "RequestReturnInput"), lambda w, _r: {
        "input": {"orderNumber": w.delivered, "resolution": "REFUND", "method": "SHIP_BACK",
                  "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]}},
        DESK | {"ada"}, hidden=frozenset({"bob", "anonymous"})),
    "approveReturn": Case(mutation("approveReturn", "ReturnActionInput"), a_return(), DESK),
    "rejectReturn": Case(mutation("rejectReturn", "RejectReturnInput"),
                         a_return(reason="NOT_AS_DESCRIBED"), DESK),
    "closeReturn": Case(mutation("closeReturn", "ReturnActionInput"), a_return(), DESK),
    "markReturnInTransit": Case(mutation("markReturnInTransit", "ReturnActionInput"),
                                a_return(), STAFF),
    # another store's return is not found, as one that does not exist
    "receiveReturn": Case(mutation("receiveReturn", "ReceiveReturnInput"), a_return(lines=[
        {"sku": "TSHIRT-BLU-M", "condition": "RESTOCK"}]), STAFF | {"store_mil"},
        hidden=frozenset({"store_roma"})),
    "refundReturn": Case(mutation("refundReturn", "RefundReturnInput"), a_return(), DESK),
    "retryPaymentCapture": Case(mutation("retryPaymentCapture", "RetryPaymentCaptureInput"),
                                lambda w, _r: {"input": {"orderNumber": w.delivered}}, DESK),
    # the world has sent no mail: the desk is let in and finds no such notification
    "resendNotification": Case(mutation("resendNotification", "ResendNotificationInput"),
                               lambda _w, _r: {"input": {"id": "no-such-notification"}},
                               DESK, hidden=DESK),
    "updateChannel": Case(mutation("updateChannel", "UpdateChannelInput"),
                          lambda _w, _r: {"input": {"code": "web"}}, frozenset({"admin"})),
    "scheduleLocationDowntime": Case(
        mutation("scheduleLocationDowntime", "ScheduleDowntimeInput"), lambda _w, _r: {
            "input": {"location": "ST-ROMA", "startsAt": "2031-01-01T00:00:00+00:00",
                      "endsAt": "2031-01-02T00:00:00+00:00", "reason": "INVENTORY_COUNT"}},
        WORKERS),
    "createWebhookEndpoint": Case(
        mutation("createWebhookEndpoint", "CreateWebhookEndpointInput"),
        lambda _w, role: {"input": {"url": f"http://127.0.0.1:9/{role}"}}, WEBHOOKS),
    **{name: Case(mutation(name, kind), lambda _w, _r: {"input": {"id": NO_ENDPOINT}}, WEBHOOKS,
                  hidden=WEBHOOKS)
       for name, kind in (("updateWebhookEndpoint", "UpdateWebhookEndpointInput"),
                          ("rotateWebhookSecret", "WebhookEndpointActionInput"),
                          ("deleteWebhookEndpoint", "WebhookEndpointActionInput"))},
    "redeliverWebhooks": Case(mutation("redeliverWebhooks", "RedeliverWebhooksInput"),
                              lambda _w, _r: {"input": {"endpointId": NO_ENDPOINT,
                                                        "deliveryIds": []}}, WEBHOOKS,
                              hidden=WEBHOOKS),
    **{name: Case(mutation(name, kind), lambda _w, _r: {"input": {"consumer": "webhooks",
                                                                   "ids": []}},
                  frozenset({"admin"}))
       for name, kind in (("retryParkedEvents", "RetryParkedEventsInput"),
                          ("skipParkedEvents", "SkipParkedEventsInput"))},
}

SUBSCRIPTIONS: dict[str, Case] = {
    "orderEvents": Case("subscription($n: String) { orderEvents(number: $n, after: \"0\") "
                        "{ sequence } }", number, STAFF | ROMA | {"ada"}),
    "inventoryEvents": Case('subscription { inventoryEvents(locations: ["ST-ROMA"], after: "0") '
                            "{ sequence } }", none, STAFF | ROMA),
    "fulfillmentEvents": Case('subscription { fulfillmentEvents(location: "ST-ROMA", after: "0")'
                              " { sequence } }", none, STAFF | ROMA),
}
# the same fields asked differently
MORE_SUBSCRIPTIONS = [
    Case('subscription { orderEvents(after: "0") { sequence } }', none, STAFF),
    Case('subscription { inventoryEvents(after: "0") { sequence } }', none, STAFF | STORES),
]


def gid(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def make_world(api, tokens, clock) -> World:
    await seed(api, tokens)
    delivered = await delivered_order(api, tokens, "matrix-delivered",
                                      [{"sku": "TSHIRT-BLU-M", "quantity": 2}],
                                      token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)  # two days after delivery
    requested = await api.data(mutation("requestReturn", "RequestReturnInput",
                                        "return { number } userErrors { code }"), {"input": {
        "orderNumber": delivered, "resolution": "REFUND", "method": "SHIP_BACK",
        "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "TOO_SMALL"}]}},
                               token=tokens["ada"])
    assert requested["requestReturn"]["userErrors"] == [], requested
    order = await place(api, "matrix-order-0001", token=tokens["ada"])
    found = (await api.data("""query($n: String!) { order(number: $n) { id
        fulfillments { id location { code } } } }""", {"n": order["number"]},
                            token=tokens["agent"]))["order"]
    [work] = found["fulfillments"]
    assert work["location"]["code"] == "ST-ROMA"
    incoming = await api.data(mutation("expectIncoming", "ExpectIncomingInput",
                                       "incoming { id } userErrors { code }"),
                              {"input": {"sku": "TSHIRT-BLU-M", "location": "ST-ROMA",
                                         "quantity": 3,
                                         "expectedAt": "2030-02-01T09:00:00+01:00"}},
                              token=tokens["integration"])
    return World(number=order["number"], order_id=found["id"], fulfillment_id=work["id"],
                 incoming_id=incoming["expectIncoming"]["incoming"]["id"],
                 location_id=gid("Location", "ST-ROMA"), delivered=delivered,
                 return_number=requested["requestReturn"]["return"]["number"])


async def fingerprint(db: Database) -> dict[str, list[str]]:
    """Every row of every table: what 'changed nothing' is checked against."""
    async with db.reader.connect() as conn:
        return {t.name: sorted(repr(tuple(r)) for r in (await conn.execute(sa.select(t))))
                for t in METADATA.sorted_tables}


def codes_in(result: dict[str, Any]) -> set[str]:
    """Every error code in an answer: top-level errors, payloads' userErrors and those of each
    item of a batch (placeOrders' results)."""
    found = {(e.get("extensions") or {}).get("code") for e in result.get("errors") or []}
    for payload in (result.get("data") or {}).values():
        if isinstance(payload, dict):
            for answer in [payload, *(payload.get("results") or [])]:
                found |= {e["code"] for e in answer.get("userErrors") or []}
    return found


def outcome(result: dict[str, Any], field: str) -> str:
    codes = codes_in(result)
    if auth := codes & AUTH_CODES:
        return auth.pop() if len(auth) == 1 else str(sorted(auth))
    if "NOT_FOUND" in codes:
        return "HIDDEN"
    data = result.get("data") or {}
    if field in data and data[field] is None and not result.get("errors"):
        return "HIDDEN"
    return "OK"


def test_every_root_field_has_a_rule_and_an_expectation():
    schema = build_schema()._schema
    fields = {f"{kind.name}.{name}" for kind in (
        schema.query_type, schema.mutation_type, schema.subscription_type)
        for name in kind.fields}
    expected = {f"Query.{f}" for f in QUERIES} | {f"Mutation.{f}" for f in MUTATIONS} | {
        f"Subscription.{f}" for f in SUBSCRIPTIONS}
    assert sorted(fields - set(ENTRY_POINTS)) == [], "root fields without a rule"
    assert sorted(fields - expected) == [], "root fields without an expectation here"
    assert sorted(set(ENTRY_POINTS) - fields) == sorted(expected - fields) == []


async def test_every_query_by_every_role(api, tokens, clock):
    world = await make_world(api, tokens, clock)
    wrong = []
    for field, case in QUERIES.items():
        for role in ROLES:
            result = await api.post(case.document, case.variables(world, role),
                                    token=tokens.get(role))
            if (got := outcome(result, field)) != case.expected(role):
                wrong.append((field, role, case.expected(role), got, result))
    assert wrong == []


async def test_every_mutation_by_every_role_and_refusals_change_nothing(api, tokens, clock):
    world = await make_world(api, tokens, clock)
    wrong = []
    db = api.app.state.db
    for field, case in MUTATIONS.items():
        for role in ROLES:
            expected = case.expected(role)
            before = await fingerprint(db) if expected != "OK" else None
            result = await api.post(case.document, case.variables(world, role),
                                    token=tokens.get(role))
            if (got := outcome(result, field)) != expected:
                wrong.append((field, role, expected, got, result))
            elif before is not None and await fingerprint(db) != before:
                wrong.append((field, role, expected, "CHANGED THE DATABASE", result))
            if expected != "OK":
                assert result["data"][field] is not None  # a payload, not a top-level error
    assert wrong == []


async def test_every_subscription_by_every_role(live, tokens, clock):
    world = await make_world(live.api, tokens, clock)
    hub = live.app.state.realtime.hub
    wrong = []
    for case in [*SUBSCRIPTIONS.values(), *MORE_SUBSCRIPTIONS]:
        for role in ROLES:
            variables = case.variables(world, role)
            expected = case.expected(role)
            if expected == "OK":
                async with ws_client(live.ws_url, tokens.get(role)) as session, \
                        Follower(session, case.document, variables) as follower:
                    await follower.take(1)  # let in: the replay starts
                    got = "OK"
                await until(lambda: hub.subscribers == 0)
            else:
                error = await refusal(live.ws_url, tokens.get(role), case.document, variables)
                got = error["extensions"]["code"]
            if got != expected:
                wrong.append((case.document, role, expected, got))
    assert wrong == []
