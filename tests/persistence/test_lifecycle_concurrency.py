"""Races on one order through the ASGI app, on both engines: one writer wins, the state adds up."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.lifecycle import desk, fulfillment_ids, levels, order, place, step
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio


async def test_ten_associates_accepting_the_same_work_leaves_one_acceptance(api, tokens,
                                                                           db_url):
    await seed_contract_network(api, tokens)
    number = (await place(api, "race-accept-01"))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]

    answers = await asyncio.gather(*(step(api, "acceptFulfillment", fid, tokens["store_roma"])
                                     for _ in range(10)))

    codes = sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers)
    assert codes == [()] + [("INVALID_TRANSITION",)] * 9
    got = await order(api, number, tokens["agent"])
    assert [t["type"] for t in got["timeline"]].count("FULFILLMENT_ACCEPTED") == 1
    assert await violations(db_url) == []


async def test_cancel_and_ship_racing_on_one_order_leave_exactly_one_outcome(api, tokens,
                                                                              db_url):
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 40}]}) { userErrors { code } } }""",
                   token=tokens["integration"])
    shipped_rounds = 0
    for round_ in range(6):
        number = (await place(api, f"race-cancel-{round_:02d}"))["number"]
        fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
        for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
            await step(api, name, fid, tokens["store_roma"])

        cancelled, shipped = await asyncio.gather(
            desk(api, "cancelOrder", tokens["agent"], number=number, reason="CUSTOMER_REQUEST"),
            step(api, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
                 trackingNumber=f"T{round_}"))

        won = (cancelled["userErrors"] == [], shipped["userErrors"] == [])
        assert won in ((True, False), (False, True)), (cancelled, shipped)
        loser = shipped if won[0] else cancelled
        assert [e["code"] for e in loser["userErrors"]] == ["INVALID_TRANSITION"]
        shipped_rounds += won[1]
        status = (await order(api, number, tokens["agent"]))["status"]
        assert status == ("CANCELLED" if won[0] else "SHIPPED")
        assert await violations(db_url) == []
    # each shipped parcel took its 2 units off the shelf; each cancelled one gave them back
    assert (await levels(api))[("TSHIRT-BLU-M", "ST-ROMA")] == (40 - 2 * shipped_rounds, 0)
