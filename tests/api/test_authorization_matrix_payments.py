"""The authorization matrix, extended to the money (issue 14): what every kind of caller is
shown of an order's payment through every route to an order — `order`, `node`, `nodes`,
`orders`, the placeOrder payload and the orderEvents subscription — on both engines.

Staff (agent, integration, admin) see all of `Order.payment`, provider references and errors
too; the customer who owns the order sees its status and amounts, never a reference (of the
payment or of a transaction) nor an error; a store with work on the order sees no payment
(null), no PAYMENT_* timeline entry and no PAYMENT_* event; anyone else sees no order at all.
(A module of its own beside tests/api/test_authorization_matrix.py, which is at the size the
house style keeps modules to; it uses the same roles and the same fingerprint.)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.realtime import Follower, until, ws_client
from tests.api.test_authorization_matrix import AUTH_CODES, CUSTOMERS, ROLES, STAFF
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import Api
from tests.payments.support import TWO_PARCELS, consumer, drain, hand_over, paid_order, seed

pytestmark = pytest.mark.anyio

ALL, AMOUNTS, NONE, HIDDEN = "ALL", "AMOUNTS", "NONE", "HIDDEN"
PAYMENT = """fragment Paid on Order { number payment { status provider reference
  authorized { amount currency } captured { amount currency } refunded { amount currency }
  voided { amount currency } expiresAt
  transactions { kind status amount { amount currency } reference at fulfillmentId error } }
  timeline { type } }"""
ROUTES = {
    "order": "query($n: String!) { order(number: $n) { ...Paid } }",
    "node": "query($id: ID!) { node(id: $id) { ...Paid } }",
    "nodes": "query($id: ID!) { nodes(ids: [$id]) { ...Paid } }",
    "orders": "{ orders(first: 50) { edges { node { ...Paid } } } }",
}
EMAIL = {"ada": "ada@example.com", "bob": "bob@example.com"}


@dataclass
class Paid:
    """Ada's two orders: `taken` has its Roma parcel captured (a capture with the provider's
    reference), `refused` its Milano parcel's capture refused (an error); as staff see them."""

    taken: str
    refused: str
    truth: dict[str, dict[str, Any]]  # number → the agent's answer
    ids: dict[str, str]  # number → Order.id


def sees(role: str, number: str, world: Paid) -> str:
    """What `role` is shown of the payment of order `number`."""
    if role in STAFF:
        return ALL
    if role == "ada":
        return AMOUNTS
    # stores: those with work on it (both on `taken`; only Milano on `refused`)
    if role == "store_mil" or (role == "store_roma" and number == world.taken):
        return NONE
    return HIDDEN


def redacted(payment: dict[str, Any]) -> dict[str, Any]:
    """The owner's view of a payment staff see: no provider reference, no error."""
    out = copy.deepcopy(payment)
    out["reference"] = None
    for t in out["transactions"]:
        t["reference"] = t["error"] = None
    return out


def money(answer: dict[str, Any]) -> list[str]:
    return [t["type"] for t in answer["timeline"] if t["type"].startswith("PAYMENT_")]


def mismatch(expected: str, got: dict[str, Any] | None, truth: dict[str, Any]) -> str | None:
    """Why `got` (an order as a caller was answered it) is not what `expected` allows."""
    if expected == HIDDEN:
        return None if got is None else "an order that is not theirs"
    if got is None:
        return "no order"
    if expected == NONE:
        return None if got["payment"] is None and money(got) == [] else "money shown"
    if expected == AMOUNTS:
        if got["payment"] != redacted(truth["payment"]):
            return f"not the amounts alone: {got['payment']}"
        # the customer's timeline: the movements that have words for them, nothing else
        return None if set(money(got)) <= set(money(truth)) and money(got) else \
            f"timeline {money(got)}"
    return None if (got["payment"], money(got)) == (truth["payment"], money(truth)) else \
        "less than all of it"


async def paid_world(api: Api, tokens: dict[str, str]) -> Paid:
    await seed(api, tokens)
    payments = consumer(api, retries=0)
    await payments.take_in()
    taken = await paid_order(api, "matrix-pay-0001", reference="pi_matrix_taken",
                             lines=TWO_PARCELS, token=tokens["ada"])
    await hand_over(api, tokens, taken, "ST-ROMA")
    refused = await paid_order(api, "matrix-pay-0002", reference="pi_matrix_capturefail",
                               lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                               token=tokens["ada"])
    await hand_over(api, tokens, refused, "WH-MIL")
    await drain(payments)
    truth, ids = {}, {}
    for number in (taken, refused):
        data = await api.data(ROUTES["order"] + PAYMENT, {"n": number}, token=tokens["agent"])
        truth[number] = data["order"]
        ids[number] = (await api.data("query($n: String!) { order(number: $n) { id } }",
                                      {"n": number}, token=tokens["agent"]))["order"]["id"]
    # what there is to withhold: references of the payment and of a capture, an error
    taken_txns = truth[taken]["payment"]["transactions"]
    assert truth[taken]["payment"]["reference"] == "pi_matrix_taken"
    assert [t["kind"] for t in taken_txns if t["reference"]] == ["AUTHORIZATION", "CAPTURE"]
    assert [t["kind"] for t in truth[refused]["payment"]["transactions"] if t["error"]] == [
        "CAPTURE"]
    return Paid(taken, refused, truth, ids)


def answered(route: str, data: dict[str, Any], number: str) -> dict[str, Any] | None:
    """The order `number` in a route's answer, if it is there."""
    match route:
        case "order":
            return data.get("order")
        case "node":
            return data.get("node")
        case "nodes":
            return (data.get("nodes") or [None])[0]
        case _:
            edges = (data.get("orders") or {}).get("edges") or []
            return next((e["node"] for e in edges if e["node"]["number"] == number), None)


async def test_every_role_sees_of_a_payment_what_it_may_through_every_query(
        api: Api, tokens: dict[str, str]) -> None:
    world = await paid_world(api, tokens)
    wrong = []
    for number in (world.taken, world.refused):
        for route, document in ROUTES.items():
            for role in ROLES:
                variables = {"order": {"n": number}, "orders": {}}.get(
                    route, {"id": world.ids[number]})
                result = await api.post(document + PAYMENT, variables, token=tokens.get(role))
                codes = {(e.get("extensions") or {}).get("code")
                         for e in result.get("errors") or []}
                expected = sees(role, number, world)
                if codes and codes <= AUTH_CODES:  # refused outright: shown nothing
                    if expected != HIDDEN and not (route == "orders" and role not in
                                                   STAFF | CUSTOMERS):
                        wrong.append((number, route, role, expected, codes))
                    continue
                if result.get("errors"):
                    wrong.append((number, route, role, "errors", result["errors"]))
                    continue
                why = mismatch(expected, answered(route, result["data"], number),
                               world.truth[number])
                if why is not None:
                    wrong.append((number, route, role, expected, why))
    assert wrong == []


async def test_whoever_places_a_paid_order_is_answered_what_they_may_see_of_its_payment(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    wrong = []
    for role in ROLES:
        placed = await api.post(PLACE.replace("order {", "order { ...Paid", 1) + PAYMENT, {
            "input": order_input(f"matrix-pay-place-{role}", lines=[
                {"sku": "TSHIRT-BLU-M", "quantity": 1}],
                customer={"email": EMAIL.get(role, "ada@example.com")},
                payment={"provider": "test", "reference": f"pi_matrix_place_{role}"})},
            token=tokens.get(role))
        got = placed["data"]["placeOrder"]["order"]
        assert placed["data"]["placeOrder"]["userErrors"] == [], (role, placed)
        truth = (await api.data(ROUTES["order"] + PAYMENT, {"n": got["number"]},
                                token=tokens["agent"]))["order"]
        # the guest typed it all in: the owner's view; a store never more than a store's
        expected = ALL if role in STAFF else NONE if role.startswith("store") else AMOUNTS
        if (why := mismatch(expected, got, truth)) is not None:
            wrong.append((role, expected, why))
    assert wrong == []


FOLLOW = """subscription($n: String!) { orderEvents(number: $n, after: "0") {
  type order { ...Paid } } }"""


async def test_followers_without_the_payment_get_no_payment_events(live, tokens) -> None:
    api = live.api
    world = await paid_world(api, tokens)
    async with api.app.state.db.reader.connect() as conn:
        stream = (await conn.execute(sa.text(
            "SELECT type FROM outbox WHERE stream = :s ORDER BY sequence"),
            {"s": f"order:{world.taken}"})).scalars().all()
    assert "PAYMENT_CAPTURED" in stream
    hub = live.app.state.realtime.hub
    wrong = []
    for role in ("ada", "store_roma", "store_mil", "agent", "integration", "admin"):
        expected = sees(role, world.taken, world)
        types = [t for t in stream if expected != NONE or not t.startswith("PAYMENT_")]
        async with ws_client(live.ws_url, tokens[role]) as session, \
                Follower(session, FOLLOW + PAYMENT, {"n": world.taken}) as follower:
            events = await follower.take(len(types))
            await follower.nothing_more()
        await until(lambda: hub.subscribers == 0)
        if [e["type"] for e in events] != types:
            wrong.append((role, "types", [e["type"] for e in events]))
        for e in events:
            if (why := mismatch(expected, e["order"], world.truth[world.taken])) is not None:
                wrong.append((role, e["type"], why))
    assert wrong == []
