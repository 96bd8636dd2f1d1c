"""Property-based fuzzing over a real WebSocket (graphql-transport-ws) on both engines: queries
and mutations generated from schema.graphql (hypothesis-graphql), and subscriptions generated
from the schema's Subscription fields with known, random and hostile argument values, sent by
three kinds of caller on their own sockets to a live server.

Whatever is sent, every message back is a `next`, `error` or `complete` of that operation,
none carries an unexpected error (INTERNAL), a traceback, SQL or an exception's class name,
and the socket stays open for the next operation: a generated operation never costs a client
its connection. The database invariants hold afterwards. Derandomized like test_fuzz.py;
PROMESSA_FUZZ_EXAMPLES scales it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import graphql
import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries
from websockets.asyncio.client import ClientConnection, connect

from api.app import create_app
from api.limits import Limits
from tests import fuzzlog
from tests.api.test_fuzz import EXAMPLES, LEAK, SCHEMA, _known, _scalars
from tests.conftest import Api, FixedClock, make_settings, seed_contract_network, serve
from tests.invariants import violations

CALLERS = ("anonymous", "ada", "agent")
# the server runs in another thread beside the generator; anything there that draws from the
# global `random` (a WebSocket ping's payload) looks to hypothesis like a strategy using it
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies")
QUIET = 0.05  # seconds a subscription may stay silent before the client completes it


def _literal(value: Any) -> str:
    """A Python value as a GraphQL literal (strings JSON-escaped, as GraphQL escapes them)."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


def subscriptions(known: dict[str, list]) -> st.SearchStrategy[str]:
    """A subscription of a root field of the schema, each argument left out or given a known,
    random or hostile value, selecting the event's scalar fields."""
    root = SCHEMA.subscription_type
    assert root is not None
    text = st.one_of(st.sampled_from(known["strings"]), st.text(max_size=30),
                     st.sampled_from(["0", "1", "-1", "99999999999999999999", "x" * 3000,
                                      "a\u202eb", "a\x00b", "\u200bPR-000001"]))

    def value(arg_type: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
        named = graphql.get_nullable_type(arg_type)
        if isinstance(named, graphql.GraphQLList):
            return st.lists(text, max_size=3)
        return text

    def document(name: str) -> st.SearchStrategy[str]:
        field = root.fields[name]
        out = graphql.get_named_type(field.type)
        assert isinstance(out, graphql.GraphQLObjectType)
        scalars = " ".join(f for f, d in out.fields.items()
                           if isinstance(graphql.get_named_type(d.type), graphql.GraphQLScalarType)
                           and not d.args)
        # a required argument always given (else the document is refused unvalidated), `after`
        # often "0" (the stream replayed: events to send back)
        args = {a: value(t.type) if isinstance(t.type, graphql.GraphQLNonNull)
                else st.one_of(st.none(), st.just("0") if a == "after" else value(t.type),
                               value(t.type))
                for a, t in field.args.items()}
        def write(chosen: dict[str, Any]) -> str:
            given = ", ".join(f"{a}: {_literal(v)}" for a, v in chosen.items() if v is not None)
            return f"subscription {{ {name}{f'({given})' if given else ''} {{ {scalars} }} }}"

        return st.fixed_dictionaries(args).map(write)

    return st.sampled_from(sorted(root.fields)).flatmap(document)


def check(message: dict[str, Any], op_id: str) -> bool:
    """One message of the server's; True when it ends operation `op_id`."""
    raw = json.dumps(message)
    assert not LEAK.search(raw), raw
    kind = message.get("type")
    if kind in ("ping", "pong"):
        return False
    assert kind in ("next", "error", "complete"), message
    errors = (message.get("payload") or []) if kind == "error" else \
        (message.get("payload") or {}).get("errors") or []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code and code != "INTERNAL", message
    return message.get("id") == op_id and kind in ("error", "complete")


async def exchange(ws: ClientConnection, op_id: str, document: str, *,
                   subscription: bool) -> None:
    """Send one operation, read its answer; a subscription still running after a quiet spell
    is completed by the client (graphql-transport-ws `complete`)."""
    await ws.send(json.dumps({"id": op_id, "type": "subscribe",
                              "payload": {"query": document}}))
    async with asyncio.timeout(20):
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), QUIET if subscription else None)
            except TimeoutError:
                await ws.send(json.dumps({"id": op_id, "type": "complete"}))
                return
            if check(json.loads(raw), op_id):
                return


@asynccontextmanager
async def _sockets(db_url: str, tokens: dict[str, str]
                   ) -> AsyncIterator[tuple[dict[str, ClientConnection], dict]]:
    limits = Limits(max_cost=1_000_000, max_tokens=20_000)
    app = create_app(make_settings(db_url, rate_limit=False, limits=limits,
                                   ws_max_subscriptions=1000), clock=FixedClock())
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        api = Api(client, app)
        await seed_contract_network(api, tokens)
        known = await _known(api, tokens)
        ws_url = "ws" + url.removeprefix("http") + "/graphql"
        sockets: dict[str, ClientConnection] = {}
        try:
            for who in CALLERS:
                # no keepalive pings: their payloads come from the global `random`, which the
                # generator (in the test's thread) watches for changes
                ws = await connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                   max_size=2**24, open_timeout=10, ping_interval=None)
                payload = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                sockets[who] = ws
            yield sockets, known
        finally:
            for ws in sockets.values():
                await ws.close()


def test_generated_operations_over_a_websocket_never_break_it(db_url, tokens):
    sent = 0
    with start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(_sockets(db_url, tokens)) as (sockets, known):
        scalars = _scalars(known)
        operations = st.one_of(
            queries(SCHEMA, custom_scalars=scalars).map(lambda d: (d, False)),
            mutations(SCHEMA, custom_scalars=scalars).map(lambda d: (d, False)),
            subscriptions(known).map(lambda d: (d, True)))

        @settings(max_examples=3 * EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=(Phase.generate,),
                  suppress_health_check=list(HealthCheck))
        @given(operation=operations)
        def run(operation: tuple[str, bool]) -> None:
            nonlocal sent
            document, subscription = operation
            note(document)
            for ws in sockets.values():
                sent += 1
                portal.call(partial(exchange, ws, str(sent), document,
                                    subscription=subscription))

        run()
        assert portal.call(violations, db_url) == []
    fuzzlog.record("websocket", sent)
    assert sent >= 3 * EXAMPLES * len(CALLERS)
