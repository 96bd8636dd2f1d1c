"""Every text input of the API is bounded, whatever the field (issue 17, item 3): the text
arguments are walked from schema.graphql — every String and ID, at any depth of every input of
every query, mutation and subscription, so a field added later is walked too — and each is sent
alone as 100 000 characters, the rest of its operation filled with the smallest values its
types accept. Each must be refused as INVALID_INPUT naming that very field and its bound (a
mutation's userError at its path, a query's or subscription's error naming it): refused for its
length, not for another field, so the check cannot pass by accident. The fillers seldom make an
operation that would write, so the last check — no text column of the database holds anything
that long afterwards — is a backstop; test_text_inputs.py shows a refused name is not stored.
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
from tests.api.realtime import refusal
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
HUGE = "x" * 100_000
FILLERS: dict[str, Any] = {"String": "x", "ID": "x", "Int": 1, "Float": 1.0, "Boolean": False,
                           "DateTime": "2030-01-02T09:30:00+00:00", "Date": "2030-01-02",
                           "Decimal": "1.00"}


@dataclass(frozen=True)
class TextInput:
    """One String or ID somewhere in the arguments of a root field."""

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


def _texts(kind: GraphQLInputType, path: tuple[str, ...], seen: tuple[str, ...]
           ) -> list[tuple[str, ...]]:
    """The paths to every String or ID within a value of `kind` (one element of a list)."""
    kind = _unwrap(kind)
    if isinstance(kind, GraphQLList):
        return _texts(kind.of_type, (*path, "0"), seen)
    if isinstance(kind, GraphQLScalarType):
        return [path] if kind.name in ("String", "ID") else []
    if isinstance(kind, GraphQLInputObjectType) and kind.name not in seen:
        return [found for name, f in kind.fields.items()
                for found in _texts(f.type, (*path, name), (*seen, kind.name))]
    return []


def text_inputs() -> list[TextInput]:
    found = []
    for root in ("Query", "Mutation", "Subscription"):
        kind = SCHEMA.get_type(root)
        assert isinstance(kind, graphql.GraphQLObjectType)
        for name, field in kind.fields.items():
            for arg_name, arg in field.args.items():
                found += [TextInput(root, name, arg_name, path)
                          for path in _texts(arg.type, (), ())]
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


def _with_text(kind: GraphQLInputType, path: tuple[str, ...], text: str) -> Any:
    """A value of `kind` holding `text` at `path`, everything else as small as it may be."""
    kind = _unwrap(kind)
    if not path:
        return text
    if isinstance(kind, GraphQLList):
        return [_with_text(kind.of_type, path[1:], text)]
    assert isinstance(kind, GraphQLInputObjectType)
    value = _smallest(kind)
    value[path[0]] = _with_text(kind.fields[path[0]].type, path[1:], text)
    return value


def operation(target: TextInput, text: str) -> tuple[str, dict[str, Any]]:
    """A document asking `target`'s field with `text` in it, and its variables."""
    field = SCHEMA.get_type(target.root).fields[target.field]  # type: ignore[union-attr]
    variables, declared, passed = {}, [], []
    for i, (name, arg) in enumerate(field.args.items()):
        if name == target.argument:
            value = _with_text(arg.type, target.path, text)
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


def refused_alike(target: TextInput, errors: list[dict[str, Any]]) -> bool:
    """One refusal, INVALID_INPUT, naming the field and its bound."""
    if len(errors) != 1:
        return False
    [error] = errors
    code = error.get("code") or (error.get("extensions") or {}).get("code")
    if code != "INVALID_INPUT" or f"{target.name} must be at most" not in error["message"]:
        return False
    return target.root != "Mutation" or error["field"] == target.user_error_field


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


def test_the_walk_finds_every_kind_of_text_input():
    walked = {str(t) for t in text_inputs()}
    assert len(walked) > 180  # 198 when written
    assert {"Mutation.placeOrder(input).customer.name", "Mutation.placeOrder(input).customer.phone",
            "Mutation.placeOrders(input).orders.0.lines.0.sku",
            "Mutation.upsertSourcingPolicy(input).shipTogether.0.0",
            "Mutation.addOrderNote(input).text", "Mutation.confirmPickup(pickupCode)",
            "Query.trackOrder(email)", "Query.nodes(ids).0", "Subscription.orderEvents(email)",
            "Subscription.inventoryEvents(skus).0"} <= walked


async def test_every_text_input_of_every_query_and_mutation_is_bounded(api, tokens, db_url):
    over_http = [t for t in text_inputs() if t.root != "Subscription"]
    let_through = []
    for target in over_http:
        document, variables = operation(target, HUGE)
        answer = await api.post(document, variables, token=tokens["admin"])
        if target.root == "Mutation" and answer.get("data"):
            errors = answer["data"][target.field]["userErrors"]
        else:
            errors = answer.get("errors") or []
        if not refused_alike(target, errors):
            let_through.append((str(target), json.dumps(answer)[:300]))

    assert let_through == [], "\n".join(map(str, let_through))
    assert len(over_http) > 170
    length, where = await longest_stored_text(db_url)
    assert length < 5_000, where


async def test_every_text_argument_of_every_subscription_is_bounded(live, tokens):
    over_ws = [t for t in text_inputs() if t.root == "Subscription"]
    let_through = []
    for target in over_ws:
        document, variables = operation(target, HUGE)
        error = await refusal(live.ws_url, tokens["admin"], document, variables)
        if not refused_alike(target, [error]):
            let_through.append((str(target), error))

    assert let_through == []
    assert len(over_ws) >= 8
