"""A store sees an order only while it has work on it, and another store's return is not
found: work rejected or moved away ends what the store sees of the order (queries, nodes,
live events), and `receiveReturn` authorises before it looks at the return's lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.realtime import Follower, refusal, until, ws_client
from tests.api.returns import delivered_order, op, request, seed
from tests.api.test_audience_canaries import (
    AGENT,
    MIL,
    QUEUE,
    ROMA,
    STEPS,
    place_canary_order,
    shown,
    work_at,
)

pytestmark = pytest.mark.anyio
LIVE = """subscription($n: String) { orderEvents(number: $n) { type order { number
  delivery { address { line1 } } } } }"""
SEES = """query($n: String!, $id: ID!) { order(number: $n) { number }
  node(id: $id) { id } }"""
REROUTE = """mutation($input: RerouteFulfillmentInput!) { rerouteFulfillment(input: $input) {
  userErrors { code } } }"""


async def _order_id(api, number: str) -> str:
    found = await api.data("query($n: String!) { order(number: $n) { id } }", {"n": number},
                           token=AGENT)
    return found["order"]["id"]


@pytest.mark.parametrize("ended", ["rejected", "moved"])
async def test_a_store_stops_seeing_an_order_when_its_work_there_ends(live, tokens, ended):
    api, hub = live.api, live.app.state.realtime.hub
    await seed(api, tokens)
    number = (await place_canary_order(api, f"scope-{ended}-1", None, lines=[
        {"sku": "TSHIRT-BLU-M", "quantity": 118}]))["order"]["number"]
    order_id, work = await _order_id(api, number), await work_at(api, number)
    assert set(work) == {"ST-ROMA", "WH-MIL"}
    before = await api.data(SEES, {"n": number, "id": order_id}, token=ROMA)
    assert before == {"order": {"number": number}, "node": {"id": order_id}}

    async with ws_client(live.ws_url, ROMA) as session, \
            Follower(session, LIVE, {"n": number}) as following:
        await until(lambda: hub.subscribers == 1)
        if ended == "rejected":
            done = await api.data(STEPS["rejectFulfillment"], {"input": {
                "fulfillmentId": work["ST-ROMA"], "reason": "DAMAGED"}}, token=ROMA)
            assert done["rejectFulfillment"]["userErrors"] == []
            # the store's answer: its work and the order's state, nothing of the customer
            assert done["rejectFulfillment"]["order"]["fulfillments"] == []
            assert shown(done) == set()
        else:
            moved = await api.data(REROUTE, {"input": {"fulfillmentId": work["ST-ROMA"],
                                                       "reason": "STORE_CLOSED_EARLY"}},
                                   token=AGENT)
            assert moved["rerouteFulfillment"]["userErrors"] == []
        # the open subscription ends, without showing the order as it is now
        with pytest.raises(StopAsyncIteration):
            await following.take(1)
    await until(lambda: hub.subscribers == 0)

    after = await api.data(SEES, {"n": number, "id": order_id}, token=ROMA)
    assert after == {"order": None, "node": None}
    refused = await refusal(live.ws_url, ROMA, LIVE, {"n": number})
    assert refused["extensions"]["code"] == "FORBIDDEN"
    # its own (ended) work stays in its queue, the order behind it without the customer
    queue = await api.data(QUEUE, {"l": "ST-ROMA"}, token=ROMA)
    [mine] = [e["node"] for e in queue["fulfillments"]["edges"]]
    assert (mine["status"], mine["order"]["number"]) == ("REJECTED", number)
    assert mine["order"]["delivery"]["address"] is None and shown(queue) == set()
    # the warehouse, still working on it, sees it as before
    still = await api.data(SEES, {"n": number, "id": order_id}, token=MIL)
    assert still == {"order": {"number": number}, "node": {"id": order_id}}


async def test_another_stores_return_is_answered_as_one_that_does_not_exist(api, tokens,
                                                                             clock):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "scope-return-1",
                                   [{"sku": "TSHIRT-RED-M", "quantity": 1}])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    asked = await op(api, "RequestReturn", request(number, [
        {"sku": "TSHIRT-RED-M", "quantity": 1, "reason": "TOO_SMALL"}]), token=tokens["agent"])
    ret = asked["return"]
    assert ret["receivingLocation"] == {"code": "WH-MIL"}  # shipped back to the warehouse

    async def receive(return_number: str, sku: str, token: str) -> list[dict]:
        got = await op(api, "ReceiveReturn", {"input": {"returnNumber": return_number,
                                                        "lines": [{"sku": sku,
                                                                   "condition": "RESTOCK"}]}},
                       token=token)
        assert got["return"] is None and got["order"] is None
        return got["userErrors"]

    def not_found(return_number: str) -> list[dict]:
        return [{"field": ["returnNumber"], "message": f"no return {return_number}",
                 "code": "NOT_FOUND"}]

    missing = f"{number}-R9"
    for sku in ("TSHIRT-RED-M", "LAMP-ARCO", "NO-SUCH-SKU"):  # held, not held, unknown
        assert await receive(ret["number"], sku, ROMA) == not_found(ret["number"])
        assert await receive(missing, sku, ROMA) == not_found(missing)
    # the receiving location itself is told which lines the return does not hold
    wrong_line = await receive(ret["number"], "LAMP-ARCO", MIL)
    assert [(e["field"], e["code"]) for e in wrong_line] == [(["lines", "0"], "NOT_FOUND")]
    still = await op(api, "OrderReturns", {"number": number}, token=tokens["agent"])
    assert [r["status"] for r in still["returns"]] == ["APPROVED"]
