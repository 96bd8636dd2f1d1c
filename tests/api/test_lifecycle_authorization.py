"""Who may drive the lifecycle: each step × every role, allowed exactly where it should be
with the status it leads to, and a refusal changes nothing (receiving and the work queue are
in test_authorization_matrix.py with every other root field)."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import (
    ADDRESS,
    clock_at,
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
        if "at" in extra:  # a carrier scan: reported once it has happened
            clock_at(world, extra["at"])

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
