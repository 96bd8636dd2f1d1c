"""graphql-transport-ws conformance, with a raw WebSocket client: close codes, ping/pong, the
subscription cap, bad documents, and the Origin allow-list.

The protocol does not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.auth import issue_token
from tests.api.realtime import until
from tests.conftest import SECRET, token

pytestmark = pytest.mark.anyio
PROTOCOL = "graphql-transport-ws"
SHOP = "https://shop.example.com"
INVENTORY = "subscription { inventoryEvents { sequence } }"


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def server(live_server):
    async with live_server(ws_init_timeout_seconds=0.3, ws_max_subscriptions=2,
                           allowed_origins=(SHOP,)) as live:
        yield live


def _open(live, *, subprotocols=(PROTOCOL,), origin: str | None = None, **kw: Any):
    return connect(live.ws_url, subprotocols=list(subprotocols) or None, origin=origin,
                   open_timeout=5, close_timeout=2, **kw)


async def _send(ws, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def _recv(ws) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def _closed_with(ws) -> tuple[int, str]:
    """The code and reason the server closed with (it must close)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


# stock events are for staff: the protocol tests follow them as an integration
STAFF = {"Authorization": f"Bearer {token('integration')}"}


async def _initialised(ws, payload: dict[str, Any] | None = None) -> None:
    await _send(ws, {"type": "connection_init", "payload": STAFF if payload is None else payload})
    assert await _recv(ws) == {"type": "connection_ack"}


async def test_no_connection_init_in_time_closes_with_4408(server):
    async with _open(server) as ws:
        assert await _closed_with(ws) == (4408, "Connection initialisation timeout")


async def test_a_second_connection_init_closes_with_4429(server):
    async with _open(server) as ws:
        await _initialised(ws)
        await _send(ws, {"type": "connection_init"})
        assert await _closed_with(ws) == (4429, "Too many initialisation requests")


async def test_subscribing_before_the_ack_closes_with_4401(server):
    async with _open(server) as ws:
        await _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": INVENTORY}})
        assert await _closed_with(ws) == (4401, "Unauthorized")


async def test_reusing_a_live_subscription_id_closes_with_4409(server):
    async with _open(server) as ws:
        await _initialised(ws)
        for _ in range(2):
            await _send(ws, {"id": "a", "type": "subscribe", "payload": {"query": INVENTORY}})
        assert await _closed_with(ws) == (4409, "Subscriber for a already exists")


@pytest.mark.parametrize(("frame", "reason"), [
    ("not json", "WebSocket message must be valid JSON"),
    (b"\x00\x01", "WebSocket message type must be text"),
    (json.dumps({"type": "shout"}), "Unknown message type: shout"),
    (json.dumps({"id": "1", "type": "subscribe"}),
     "subscribe needs a `payload` with a `query` string"),
    # after the ack these dropped the socket without a close frame, with a traceback
    # (issue 17, item 10)
    ("[1]", "a message must be an object with a string `type`"),
    (json.dumps({"type": 7}), "a message must be an object with a string `type`"),
    (json.dumps({"id": "1", "type": "subscribe", "payload": None}),
     "subscribe needs a `payload` with a `query` string"),
    (json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }",
                                                              "variables": [1]}}),
     "subscribe's `variables` must be an object"),
    (json.dumps({"id": 5, "type": "subscribe", "payload": {"query": "{ __typename }"}}),
     "subscribe needs a non-empty string `id`"),
    (json.dumps({"type": "complete"}), "complete needs a non-empty string `id`"),
    (json.dumps({"type": "ping", "payload": [1]}), "ping's `payload` must be an object"),
    ("[" * 5000 + "]" * 5000, "WebSocket message must be valid JSON"),  # too deep to parse
])
async def test_a_malformed_message_closes_with_4400(server, frame, reason):
    async with _open(server) as ws:
        await _initialised(ws)
        await ws.send(frame)
        assert await _closed_with(ws) == (4400, reason)


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", 42,
    "Bearer " + token("agent").rsplit(".", 1)[0] + ".forged-signature"])
async def test_an_unusable_token_in_connection_init_closes_with_4403(server, authorization):
    async with _open(server) as ws:
        await _send(ws, {"type": "connection_init",
                         "payload": {"Authorization": authorization}})
        assert await _closed_with(ws) == (4403, "Forbidden")


async def test_an_unusable_token_in_the_handshake_header_is_refused_at_init(server):
    async with _open(server, additional_headers={"Authorization": "Bearer nope"}) as ws:
        await _send(ws, {"type": "connection_init", "payload": {}})
        assert await _closed_with(ws) == (4403, "Forbidden")


@pytest.mark.parametrize("subprotocols", [("graphql-ws",), ()], ids=["legacy", "none"])
async def test_another_subprotocol_closes_with_4406(server, subprotocols):
    async with _open(server, subprotocols=subprotocols) as ws:
        assert await _closed_with(ws) == (4406, "Subprotocol not acceptable")


async def test_ping_is_answered_with_pong(server):
    async with _open(server) as ws:
        await _initialised(ws)
        await _send(ws, {"type": "ping", "payload": {"at": 1}})
        assert await _recv(ws) == {"type": "pong"}


async def test_past_the_cap_a_subscription_is_refused_and_the_socket_stays_open(server):
    hub = server.app.state.realtime.hub
    async with _open(server) as ws:
        await _initialised(ws)
        for n in ("1", "2", "3"):
            await _send(ws, {"id": n, "type": "subscribe", "payload": {"query": INVENTORY}})
        error = await _recv(ws)
        assert (error["id"], error["type"]) == ("3", "error")
        assert [e["extensions"]["code"] for e in error["payload"]] == ["TOO_MANY_SUBSCRIPTIONS"]
        await until(lambda: hub.subscribers == 2)
        await _send(ws, {"id": "1", "type": "complete"})
        await until(lambda: hub.subscribers == 1)
        await _send(ws, {"id": "3", "type": "subscribe", "payload": {"query": INVENTORY}})
        await until(lambda: hub.subscribers == 2)


@pytest.mark.parametrize(("query", "says"), [
    ("subscription { inventoryEvents { sequence }", "Syntax Error"),
    ("subscription { inventoryEvents { nope } }", "Cannot query field 'nope'"),
])
async def test_a_bad_document_gets_an_error_message_and_the_socket_stays_open(server, query,
                                                                            says):
    async with _open(server) as ws:
        await _initialised(ws)
        await _send(ws, {"id": "bad", "type": "subscribe", "payload": {"query": query}})
        error = await _recv(ws)
        assert (error["id"], error["type"]) == ("bad", "error")
        [detail] = error["payload"]
        assert says in detail["message"]
        assert detail["extensions"]["code"] == "BAD_REQUEST"
        await _send(ws, {"type": "ping"})
        assert await _recv(ws) == {"type": "pong"}


async def test_a_query_over_the_socket_gets_its_result_then_complete(server):
    async with _open(server) as ws:
        await _initialised(ws, {"Authorization": f"Bearer {token('agent')}"})
        await _send(ws, {"id": "q", "type": "subscribe",
                         "payload": {"query": "{ channels { code } }"}})
        result = await _recv(ws)
        assert result["type"] == "next"
        assert [c["code"] for c in result["payload"]["data"]["channels"]] == [
            "call_center", "marketplace:amazon", "store", "web"]
        assert await _recv(ws) == {"id": "q", "type": "complete"}


async def test_a_page_from_another_origin_cannot_open_a_socket(server):
    with pytest.raises(InvalidStatus) as refused:
        async with _open(server, origin="https://evil.example.com"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", [SHOP, "same"], ids=["allowed", "same-origin"])
async def test_allowed_and_same_origin_pages_may_open_a_socket(server, origin):
    origin = server.url if origin == "same" else origin
    async with _open(server, origin=origin) as ws:
        await _initialised(ws)


async def test_a_socket_is_closed_with_4403_when_its_token_expires(server):
    expiring = issue_token(role="integration", secret=SECRET, ttl_seconds=2)
    async with _open(server) as ws:
        await _initialised(ws, {"Authorization": f"Bearer {expiring}"})
        await _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": INVENTORY}})
        await _send(ws, {"type": "ping"})
        assert await _recv(ws) == {"type": "pong"}  # live, subscribed, until the expiry
        assert await _closed_with(ws) == (4403, "Token expired")


async def test_a_token_expiring_in_the_handshake_header_also_closes_the_socket(server):
    expiring = issue_token(role="agent", secret=SECRET, ttl_seconds=2)
    async with _open(server, additional_headers={"Authorization": f"Bearer {expiring}"}) as ws:
        await _initialised(ws, {})  # the handshake's token, not one in connection_init
        assert await _closed_with(ws) == (4403, "Token expired")


async def test_a_socket_with_a_valid_token_stays_open_past_a_short_while(server):
    async with _open(server) as ws:
        await _initialised(ws, {"Authorization": f"Bearer {token('agent')}"})
        await asyncio.sleep(2.5)  # longer than the expiring tokens above live
        await _send(ws, {"type": "ping"})
        assert await _recv(ws) == {"type": "pong"}


@pytest.mark.parametrize(("query", "code"), [
    ("subscription { " + " ".join(f"a{i}: inventoryEvents {{ sequence }}" for i in range(31))
     + " }", "MAX_ALIASES_EXCEEDED"),
    ("subscription { inventoryEvents { sequence " + "x " * 5000 + "} }", "MAX_TOKENS_EXCEEDED"),
    ("subscription { inventoryEvents(skus: [" + '"A",' * 251 + "]) { sequence } }",
     "INPUT_LIST_TOO_LONG"),
])
async def test_a_subscription_past_a_limit_gets_an_error_and_the_socket_stays_open(
        server, query, code):
    async with _open(server) as ws:
        await _initialised(ws)
        await _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": query}})
        message = await _recv(ws)
        assert message["type"] == "error" and message["id"] == "1"
        assert message["payload"][0]["extensions"]["code"] == code
        await _send(ws, {"type": "ping"})
        assert await _recv(ws) == {"type": "pong"}
