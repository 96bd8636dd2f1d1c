"""Who may drive the lifecycle: each new mutation × every role, allowed exactly where it
should be, and a refusal changes nothing."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import (
    ADDRESS,
    EXPECT,
    RECEIVE,
    desk,
    fulfillment_ids,
    order,
    place,
    step,
)
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio

ROLES = ("anonymous", "ada", "bob", "store_roma", "store_mil", "agent", "integration", "admin")
PICKUP = {"delivery": {"method": "PICKUP", "pickupLocation": "ST-ROMA"}}

# mutation → (roles allowed, preparing steps by an admin, extra input, status after, pickup)
WORK = {
    "acceptFulfillment": ({"store_roma", "integration", "admin"}, [], {}, "ACCEPTED", False),
    "rejectFulfillment": ({"store_roma", "integration", "admin"}, [],
                          {"reason": "DAMAGED"}, "REJECTED", False),
    "pickFulfillment": ({"store_roma", "integration", "admin"}, ["acceptFulfillment"], {},
                        "PICKED", False),
    "packFulfillment": ({"store_roma", "integration", "admin"},
                        ["acceptFulfillment", "pickFulfillment"], {}, "PACKED", False),
    "shipFulfillment": ({"store_roma", "integration", "admin"},
                        ["acceptFulfillment", "pickFulfillment", "packFulfillment"],
                        {"carrier": "BRT", "trackingNumber": "BRT9"}, "SHIPPED", False),
    "markReadyForPickup": ({"store_roma", "integration", "admin"},
                           ["acceptFulfillment", "pickFulfillment", "packFulfillment"], {},
                           "READY_FOR_PICKUP", True),
    "confirmPickup": ({"store_roma", "integration", "admin"},
                      ["acceptFulfillment", "pickFulfillment", "packFulfillment",
                       "markReadyForPickup"], {}, "DELIVERED", True),
    "recordTrackingEvent": ({"integration", "admin"},
                            ["acceptFulfillment", "pickFulfillment", "packFulfillment",
                             "shipFulfillment"],
                            {"status": "IN_TRANSIT", "at": "2030-01-02T12:00:00+01:00"},
                            "IN_TRANSIT", False),
}
PREP_INPUT = {"shipFulfillment": {"carrier": "BRT", "trackingNumber": "BRT9"}}

# mutation → (roles allowed, preparing (mutation, input) by an agent, input, status after)
DESK = {
    "cancelOrder": ({"agent", "admin", "ada"}, [], {"reason": "CUSTOMER_REQUEST"}, "CANCELLED"),
    "holdOrder": ({"agent", "admin"}, [], {"reason": "FRAUD_CHECK"}, "ON_HOLD"),
    "releaseOrder": ({"agent", "admin"}, [("holdOrder", {"reason": "FRAUD_CHECK"})], {},
                     "ALLOCATED"),
    "updateShippingAddress": ({"agent", "admin"}, [], {"address": ADDRESS}, "ALLOCATED"),
    "addOrderNote": ({"agent", "admin"}, [], {"text": "called the customer"}, "ALLOCATED"),
    "addOrderTags": ({"agent", "admin"}, [], {"tags": ["VIP"]}, "ALLOCATED"),
    "removeOrderTags": ({"agent", "admin"}, [("addOrderTags", {"tags": ["VIP"]})],
                        {"tags": ["VIP"]}, "ALLOCATED"),
}


def expected_refusal(role: str, allowed: set[str], *, hidden: frozenset = frozenset()) -> list:
    if role in allowed:
        return []
    if role == "anonymous":
        return ["UNAUTHENTICATED"]
    return ["NOT_FOUND"] if role in hidden else ["FORBIDDEN"]


@pytest.fixture
async def world(api, tokens):
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 100}]}) { userErrors { code } } }""",
                   token=tokens["integration"])
    return api


@pytest.mark.parametrize("mutation", list(WORK))
async def test_fulfillment_work_by_role(world, tokens, mutation):
    allowed, prep, extra, after, pickup = WORK[mutation]
    for i, role in enumerate(ROLES):
        number = (await place(world, f"work-{mutation[:12]}-{i}", **(PICKUP if pickup else {})))[
            "number"]
        fid = (await fulfillment_ids(world, number, tokens["admin"]))["ST-ROMA"]
        for name in prep:
            assert (await step(world, name, fid, tokens["admin"],
                               **PREP_INPUT.get(name, {})))["userErrors"] == []
        before = await order(world, number, tokens["admin"])

        result = await step(world, mutation, fid, tokens.get(role), **extra)

        codes = [e["code"] for e in result["userErrors"]]
        assert codes == expected_refusal(role, allowed), (role, result)
        if codes:
            assert result["fulfillment"] is None
            assert await order(world, number, tokens["admin"]) == before
        else:
            assert result["fulfillment"]["status"] == after, role


@pytest.mark.parametrize("mutation", list(DESK))
async def test_customer_service_by_role(world, tokens, mutation):
    allowed, prep, values, after = DESK[mutation]
    for i, role in enumerate(ROLES):
        number = (await place(world, f"desk-{mutation[:12]}-{i}"))["number"]  # ada's order
        for name, prep_values in prep:
            assert (await desk(world, name, tokens["agent"], number=number,
                               **prep_values))["userErrors"] == []
        before = await order(world, number, tokens["admin"])

        result = await desk(world, mutation, tokens.get(role), number=number, **values)

        codes = [e["code"] for e in result["userErrors"]]
        # a customer's cancel of someone else's order meets an order that does not exist
        hidden = frozenset({"bob"}) if mutation == "cancelOrder" else frozenset()
        assert codes == expected_refusal(role, allowed, hidden=hidden), (role, result)
        if codes:
            assert result["order"] is None
            assert await order(world, number, tokens["admin"]) == before
        else:
            assert result["order"]["status"] == after, role


async def test_receiving_by_role(world, tokens):
    allowed = {"store_roma", "integration", "admin"}
    for role in ROLES:
        expected = (await world.data(EXPECT, {"input": {
            "sku": "TSHIRT-BLU-M", "location": "ST-ROMA", "quantity": 4,
            "expectedAt": "2030-02-01T09:00:00+01:00"}}, token=tokens["integration"]))
        incoming_id = expected["expectIncoming"]["incoming"]["id"]

        result = (await world.data(RECEIVE, {"input": {"incomingId": incoming_id}},
                                   token=tokens.get(role)))["receiveIncoming"]

        codes = [e["code"] for e in result["userErrors"]]
        assert codes == expected_refusal(role, allowed), (role, result)
        assert (result["incoming"] is None) == bool(codes)


async def test_a_store_associate_reads_only_their_own_work_queue(world, tokens):
    query = """query($l: String!) { fulfillments(location: $l) { totalCount } }"""
    await place(world, "queue-auth-0001")
    expected = {"anonymous": "UNAUTHENTICATED", "ada": "FORBIDDEN", "bob": "FORBIDDEN",
                "store_mil": "FORBIDDEN"}
    for role in ROLES:
        result = await world.post(query, {"l": "ST-ROMA"}, token=tokens.get(role))
        if role in expected:
            assert result["data"] is None
            assert [e["extensions"]["code"] for e in result["errors"]] == [expected[role]]
        else:
            assert "errors" not in result, role
            assert result["data"] == {"fulfillments": {"totalCount": 1}}, role
