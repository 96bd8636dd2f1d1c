"""An exchange's replacement lives its own life: an agent may hold it, ship it (VIP) or cancel
it before the return comes back. Receiving or rejecting the return respects that."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.lifecycle import desk, fulfillment_ids, order, step
from tests.api.returns import delivered_order, op, request, seed
from tests.invariants import violations

pytestmark = pytest.mark.anyio
SHIRT = "TSHIRT-BLU-M"
SWAP = [{"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL", "exchangeSku": "TSHIRT-BLU-L"}]
RECEIVE = [{"sku": SHIRT, "condition": "RESTOCK", "quantity": 1}]


async def _exchange(api, tokens, clock, key: str, *, vip: bool = False) -> tuple[str, str]:
    """A delivered order with an exchange requested: (return number, replacement number)."""
    await seed(api, tokens)
    number = await delivered_order(api, tokens, key, [{"sku": SHIRT, "quantity": 1}],
                                   token=tokens["ada"])
    if vip:
        assert (await desk(api, "addOrderTags", tokens["agent"], number=number,
                           tags=["VIP"]))["userErrors"] == []
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    asked = await op(api, "RequestReturn", request(number, SWAP, resolution="EXCHANGE"),
                     token=tokens["ada"])
    assert asked["userErrors"] == [], asked
    return asked["return"]["number"], asked["return"]["replacementOrderNumber"]


async def test_a_hold_an_agent_put_on_the_replacement_outlives_the_receipt(api, tokens, clock,
                                                                           db_url):
    ret, replacement = await _exchange(api, tokens, clock, "exch-hold-001")
    assert (await desk(api, "releaseOrder", tokens["agent"], number=replacement))[
        "userErrors"] == []
    assert (await desk(api, "holdOrder", tokens["agent"], number=replacement,
                       reason="FRAUD_CHECK"))["userErrors"] == []

    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret,
                                                         "lines": RECEIVE}},
                        token=tokens["agent"])

    assert received["userErrors"] == [] and received["return"]["status"] == "EXCHANGED"
    held = await order(api, replacement, tokens["agent"])
    assert (held["status"], held["holdReason"]) == ("ON_HOLD", "FRAUD_CHECK")
    assert await violations(db_url) == []


async def test_a_replacement_already_shipped_is_not_taken_back_by_rejecting_the_return(
        api, tokens, clock, db_url):
    ret, replacement = await _exchange(api, tokens, clock, "exch-ship-001", vip=True)
    [(code, fid)] = (await fulfillment_ids(api, replacement, tokens["agent"])).items()
    store = tokens[{"ST-ROMA": "store_roma", "WH-MIL": "store_mil"}[code]]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, store))["userErrors"] == []
    assert (await step(api, "shipFulfillment", fid, store, carrier="BRT",
                       trackingNumber="BRT-EXCH-1"))["userErrors"] == []

    refused = await op(api, "RejectReturn", {"input": {"returnNumber": ret,
                                                       "reason": "NOT_OURS"}},
                       token=tokens["agent"])

    assert [e["code"] for e in refused["userErrors"]] == ["CONFLICT"]
    assert "already SHIPPED" in refused["userErrors"][0]["message"]
    assert (await order(api, replacement, tokens["agent"]))["status"] == "SHIPPED"
    assert await violations(db_url) == []


async def test_a_cancelled_replacement_is_not_announced_as_on_its_way(api, tokens, clock,
                                                                      db_url):
    ret, replacement = await _exchange(api, tokens, clock, "exch-cncl-001")
    assert (await desk(api, "cancelOrder", tokens["agent"], number=replacement,
                       reason="CUSTOMER_CHANGED_MIND"))["userErrors"] == []

    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret,
                                                         "lines": RECEIVE}},
                        token=tokens["agent"])

    assert received["userErrors"] == [] and received["return"]["status"] == "RECEIVED"
    assert (await order(api, replacement, tokens["agent"]))["status"] == "CANCELLED"
    timeline = (await order(api, received["order"]["number"], tokens["agent"]))["timeline"]
    assert "RETURN_EXCHANGED" not in [t["type"] for t in timeline]
    assert await violations(db_url) == []


RECEIVE_AS_STORE = """mutation($input: ReceiveReturnInput!) { receiveReturn(input: $input) {
  userErrors { code } order { number customer { email name } fulfillments { location { code } }
  } } }"""


async def test_a_store_receiving_a_drop_off_sees_only_the_store_view_of_the_order(
        api, tokens, clock):
    """The order shipped from the warehouse; the parcel comes back to a store: its associate
    gets the store view in the answer (no email, no other location's work)."""
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "exch-view-001",
                                   [{"sku": "TSHIRT-BLU-L", "quantity": 1}], token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    ret = (await op(api, "RequestReturn", request(number, [
        {"sku": "TSHIRT-BLU-L", "quantity": 1, "reason": "TOO_SMALL"}], method="DROP_AT_STORE"),
        token=tokens["ada"]))["return"]
    assert ret["receivingLocation"]["code"] == "ST-ROMA"

    got = (await api.data(RECEIVE_AS_STORE, {"input": {"returnNumber": ret["number"], "lines": [
        {"sku": "TSHIRT-BLU-L", "condition": "RESTOCK"}]}}, token=tokens["store_roma"]))[
        "receiveReturn"]

    assert got["userErrors"] == []
    assert got["order"]["customer"]["email"] is None
    assert got["order"]["fulfillments"] == []
