"""Every text and every time a caller sends is checked, whatever the field (issue 17, items 3
and 9): the arguments are walked from schema.graphql — every String, ID and DateTime at any
depth of every input of every query, mutation and subscription, so a field added later is
walked too — and each is sent alone with a hostile value, the rest of its operation filled with
the smallest values its types accept:

- 100 000 characters, in every text (both engines; subscriptions over a WebSocket);
- a lone surrogate, a bidi override, a NUL and a control character, in every text;
- a time that exists in no UTC (`9999-12-31T23:59:59-14:00`, `0001-01-01T00:00:00+14:00`),
  in every DateTime.

Each must be refused as INVALID_INPUT naming that very field (a mutation's userError at its
path, a query's or subscription's error by its message): refused for what was sent there, not
for another field, so the check cannot pass by accident. The fillers seldom make an operation
that would write, so the last check — no text column holds anything that long afterwards — is a
backstop; test_text_inputs.py shows a refused name is not stored. Invisible characters are
refused only in identifiers and emails (names and notes may need a zero-width joiner), which
test_text_inputs.py covers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import graphql
import pytest
import sqlalchemy as sa
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_composite_type,
)
from graphql.pyutils import Undefined

from persistence.db import Database
from persistence.tables import METADATA
from tests import fuzzlog
from tests.api.realtime import refusal
from tests.conftest import ROOT, Api

pytestmark = pytest.mark.anyio
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
TEXTS = frozenset({"String", "ID"})
TIMES = frozenset({"DateTime"})
HUGE = "x" * 100_000
# what each hostile text is refused with (api/text.py), after the field's name or not
HOSTILE_TEXTS = {"a\ud800b": "a lone surrogate is not", "a\u202eb": "bidirectional override",
                 "a\x00b": "NUL character", "a\x07b": "control characters"}
NO_UTC_TIMES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")
FILLERS: dict[str, Any] = {"String": "x", "ID": "x", "Int": 1, "Float": 1.0, "Boolean": False,
                           "DateTime": "2030-01-02T09:30:00+00:00", "Date": "2030-01-02",
                           "Decimal": "1.00"}


@dataclass(frozen=True)
class Leaf:
    """One scalar somewhere in the arguments of a root field."""

    root: str  # Query, Mutation or Subscription
    field: str
    argument: str
    path: tuple[str, ...]  # inside the argument: input fields and list indexes

    @property
    def name(self) -> str:
        """The field's own name (what its refusal names)."""
        named = [p for p in (self.argument, *self.path) if not p.isdigit()]
        return named[-1]

    @property
    def user_error_field(self) -> list[str]:
        """Where a mutation's userError points: inside `input`, or at the argument."""
        return list(self.path) if self.argument == "input" else [self.argument, *self.path]

    def __str__(self) -> str:
        return f"{self.root}.{self.field}({self.argument}){''.join('.' + p for p in self.path)}"


def _unwrap(kind: GraphQLInputType) -> GraphQLInputType:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


def _paths(kind: GraphQLInputType, scalars: frozenset[str], path: tuple[str, ...],
           seen: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The paths to every scalar named in `scalars` within a value of `kind` (through the
    first element of a list)."""
    kind = _unwrap(kind)
    if isinstance(kind, GraphQLList):
        return _paths(kind.of_type, scalars, (*path, "0"), seen)
    if isinstance(kind, GraphQLScalarType):
        return [path] if kind.name in scalars else []
    if isinstance(kind, GraphQLInputObjectType) and kind.name not in seen:
        return [found for name, f in kind.fields.items()
                for found in _paths(f.type, scalars, (*path, name), (*seen, kind.name))]
    return []


def leaves(scalars: frozenset[str], *roots: str) -> list[Leaf]:
    found = []
    for root in roots:
        kind = SCHEMA.get_type(root)
        assert isinstance(kind, graphql.GraphQLObjectType)
        for name, field in kind.fields.items():
            for arg_name, arg in field.args.items():
                found += [Leaf(root, name, arg_name, path)
                          for path in _paths(arg.type, scalars, (), ())]
    return found


def _required(kind: GraphQLInputType, default: Any) -> bool:
    return isinstance(kind, GraphQLNonNull) and default is Undefined


def _smallest(kind: GraphQLInputType) -> Any:
    """The smallest value a required input of `kind` accepts."""
    kind = _unwrap(kind)
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {name: _smallest(f.type) for name, f in kind.fields.items()
                if _required(f.type, f.default_value)}
    assert isinstance(kind, GraphQLScalarType)
    return FILLERS[kind.name]


def _with(kind: GraphQLInputType, path: tuple[str, ...], sent: str) -> Any:
    """A value of `kind` holding `sent` at `path`, everything else as small as it may be."""
    kind = _unwrap(kind)
    if not path:
        return sent
    if isinstance(kind, GraphQLList):
        return [_with(kind.of_type, path[1:], sent)]
    assert isinstance(kind, GraphQLInputObjectType)
    value = _smallest(kind)
    value[path[0]] = _with(kind.fields[path[0]].type, path[1:], sent)
    return value


def operation(target: Leaf, sent: str) -> tuple[str, dict[str, Any]]:
    """A document asking `target`'s field with `sent` in it, and its variables."""
    field = SCHEMA.get_type(target.root).fields[target.field]  # type: ignore[union-attr]
    variables, declared, passed = {}, [], []
    for i, (name, arg) in enumerate(field.args.items()):
        if name == target.argument:
            value = _with(arg.type, target.path, sent)
        elif _required(arg.type, arg.default_value):
            value = _smallest(arg.type)
        else:
            continue
        variables[f"a{i}"] = value
        declared.append(f"$a{i}: {arg.type}")
        passed.append(f"{name}: $a{i}")
    returned = get_named_type(field.type)
    if target.root == "Mutation":
        selection = "{ userErrors { field code message } }"
    elif is_composite_type(returned):
        selection = "{ __typename }"
    else:
        selection = ""
    document = (f"{target.root.lower()}({', '.join(declared)}) "
                f"{{ {target.field}({', '.join(passed)}) {selection} }}")
    return document, variables


async def errors_of(api: Api, target: Leaf, sent: str, token: str) -> list[dict[str, Any]]:
    """The userErrors of a mutation, or the errors of a query, sending `sent` at `target`
    (as JSON escapes: a lone surrogate cannot be UTF-8)."""
    document, variables = operation(target, sent)
    response = await api.client.post("/graphql", content=json.dumps(
        {"query": document, "variables": variables}), headers={
        "content-type": "application/json", "authorization": f"Bearer {token}"})
    assert response.status_code == 200, (str(target), response.text)
    answer = response.json()
    if target.root == "Mutation" and answer.get("data"):
        return answer["data"][target.field]["userErrors"]
    return answer.get("errors") or []


def refused_for(target: Leaf, errors: list[dict[str, Any]], said: str) -> bool:
    """One refusal, INVALID_INPUT, at the field (a mutation's) and saying `said`."""
    if len(errors) != 1:
        return False
    [error] = errors
    code = error.get("code") or (error.get("extensions") or {}).get("code")
    if code != "INVALID_INPUT" or said not in error["message"]:
        return False
    return target.root != "Mutation" or error["field"] == target.user_error_field


async def sweep(api: Api, targets: list[Leaf], sent: str, said: str, token: str
                ) -> list[tuple[str, list[dict[str, Any]]]]:
    """The targets where `sent` was not refused as it should be."""
    let_through = []
    for target in targets:
        errors = await errors_of(api, target, sent, token)
        if not refused_for(target, errors, said.format(name=target.name)):
            let_through.append((str(target), errors))
    fuzzlog.record("http", len(targets))
    return let_through


async def longest_stored_text(db_url: str) -> tuple[int, str]:
    """The longest value in any text column of the database, and where it is."""
    db = Database(db_url)
    longest = (0, "")
    try:
        async with db.reader.connect() as conn:
            for table in METADATA.sorted_tables:
                for column in table.columns:
                    if not isinstance(column.type, sa.String):
                        continue
                    found = (await conn.execute(sa.select(
                        sa.func.max(sa.func.length(column))))).scalar_one()
                    longest = max(longest, (found or 0, f"{table.name}.{column.name}"))
    finally:
        await db.dispose()
    return longest


def test_the_walk_finds_every_kind_of_input():
    texts = {str(t) for t in leaves(TEXTS, "Query", "Mutation", "Subscription")}
    assert len(texts) > 180  # 200 when written
    assert {"Mutation.placeOrder(input).customer.name", "Mutation.placeOrder(input).customer.phone",
            "Mutation.placeOrders(input).orders.0.lines.0.sku",
            "Mutation.upsertSourcingPolicy(input).shipTogether.0.0",
            "Mutation.addOrderNote(input).text", "Mutation.confirmPickup(pickupCode)",
            "Query.trackOrder(email)", "Query.nodes(ids).0", "Subscription.orderEvents(email)",
            "Subscription.inventoryEvents(skus).0"} <= texts
    times = {str(t) for t in leaves(TIMES, "Query", "Mutation")}
    assert {"Query.orders(filter).placedFrom", "Query.operationsMetrics(to)",
            "Mutation.expectIncoming(input).expectedAt",
            "Mutation.recordTrackingEvent(input).expectedDelivery",
            "Mutation.redeliverWebhooks(input).since"} <= times


async def test_every_text_input_of_every_query_and_mutation_is_bounded(api, tokens, db_url):
    over_http = leaves(TEXTS, "Query", "Mutation")
    assert len(over_http) > 170

    let_through = await sweep(api, over_http, HUGE, "{name} must be at most", tokens["admin"])

    assert let_through == [], "\n".join(map(str, let_through))
    length, where = await longest_stored_text(db_url)
    assert length < 5_000, where


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # refused before any database
@pytest.mark.parametrize("sent", HOSTILE_TEXTS, ids=ascii)
async def test_every_text_input_refuses_characters_that_are_not_plain_text(api, tokens, sent):
    let_through = await sweep(api, leaves(TEXTS, "Query", "Mutation"), sent,
                              HOSTILE_TEXTS[sent], tokens["admin"])

    assert let_through == [], "\n".join(map(str, let_through))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("sent", NO_UTC_TIMES)
async def test_every_time_input_refuses_a_time_that_is_no_utc_time(api, tokens, sent):
    targets = leaves(TIMES, "Query", "Mutation")
    assert len(targets) >= 10

    let_through = await sweep(api, targets, sent, "{name} ", tokens["admin"])

    assert let_through == [], "\n".join(map(str, let_through))


async def test_every_text_argument_of_every_subscription_is_checked(live, tokens):
    over_ws = leaves(TEXTS, "Subscription")
    assert len(over_ws) >= 8
    let_through = []
    for target in over_ws:
        for sent, said in ((HUGE, f"{target.name} must be at most"), *HOSTILE_TEXTS.items()):
            document, variables = operation(target, sent)
            error = await refusal(live.ws_url, tokens["admin"], document, variables)
            if not refused_for(target, [error], said):
                let_through.append((str(target), ascii(sent[:10]), error))
    fuzzlog.record("websocket", len(over_ws) * (1 + len(HOSTILE_TEXTS)))

    assert let_through == [], "\n".join(map(str, let_through))
