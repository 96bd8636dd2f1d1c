"""Subscribers of an order see its returns move, over graphql-transport-ws."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.realtime import Follower, until, ws_client
from tests.api.returns import delivered_order, op, request, seed

pytestmark = pytest.mark.anyio
STREAM = """subscription($n: String, $email: String) { orderEvents(number: $n, email: $email) {
  type tracking { number status } } }"""


async def test_a_guest_following_the_order_sees_the_return_requested_received_and_refunded(
        live, tokens, clock):
    api = live.api
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-live-0001",
                                   [{"sku": "TSHIRT-BLU-M", "quantity": 2}])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    hub = live.app.state.realtime.hub
    async with ws_client(live.ws_url) as guest, \
            Follower(guest, STREAM, {"n": number, "email": "ada@example.com"}) as events:
        await until(lambda: hub.subscribers == 1)
        asked = await op(api, "RequestReturn", request(number, [
            {"sku": "TSHIRT-BLU-M", "quantity": 2, "reason": "TOO_SMALL"}],
            method="DROP_AT_STORE", email="ada@example.com"))
        ret = asked["return"]["number"]
        received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret, "lines": [
            {"sku": "TSHIRT-BLU-M", "condition": "RESTOCK"}]}}, token=tokens["store_roma"])
        assert received["userErrors"] == []
        refunded = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                            token=tokens["agent"])
        assert refunded["return"]["refundAmount"]["amount"] == "39.80"  # no label to pay
        assert await events.take(4) == [
            {"type": "RETURN_REQUESTED", "tracking": {"number": number, "status": "DELIVERED"}},
            {"type": "RETURN_APPROVED", "tracking": {"number": number, "status": "DELIVERED"}},
            {"type": "RETURN_RECEIVED", "tracking": {"number": number, "status": "RETURNED"}},
            {"type": "RETURN_REFUNDED", "tracking": {"number": number, "status": "RETURNED"}}]
