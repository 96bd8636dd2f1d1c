"""The request guard: limits and cost before execution, budgets per principal, guest lookups.

`RequestGuard` is the schema extension every operation (HTTP or WebSocket) passes through:
the parser's token cap, the cost of the operation that will run (reported in
`extensions.cost` on every answer), and the caller's cost budget — refused with THROTTLED and
`retryAfter` when spent. `guest_lookup` is for resolvers that answer guests who prove nothing
but an order number and an email: `trackOrder`, the guest path of `orderEvents`, and guest
returns; it limits lookups per client and per order number so neither can be enumerated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationType,
    get_operation_ast,
)
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from api import limits
from api.throttle import Bucket, Buckets, Decision
from domain.access import Role
from domain.kernel.errors import DomainError

if TYPE_CHECKING:  # annotations only; api.context refers back to Guards the same way
    from api.context import Context

THROTTLED = "THROTTLED"


@dataclass(frozen=True)
class Guards:
    """Built in the lifespan (the buckets may be in Redis) and shared by every request."""

    buckets: Buckets
    budget: Bucket | None  # cost per principal; None: no rate limit
    guest_per_client: Bucket | None
    guest_per_order: Bucket | None

    async def spend(self, key: str, cost: int) -> Decision | None:
        if self.budget is None:
            return None
        return await self.buckets.take(f"cost:{key}", cost, self.budget)


class Throttled(DomainError):
    """Too many requests from this caller (or for this order): try again after a while."""

    code = THROTTLED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.extensions = {"retryAfter": retry_after}


def client_address(request: Any) -> str:
    client = getattr(request, "client", None)
    return client.host if client is not None and client.host else "unknown"


def caller_key(context: Context) -> str:
    """Whose budget a request spends: the principal when signed in, else the client address."""
    principal = context.principal
    if principal.role is Role.ANONYMOUS:
        return "ip:" + client_address(context.request)
    return f"{principal.role.value}:{principal.subject}"


def _retry_after(context: Any, decision: Decision) -> int:
    seconds = decision.retry_after_seconds
    response = getattr(context, "response", None)
    if isinstance(response, Response):  # over HTTP (a socket has no headers to add)
        response.headers["Retry-After"] = str(seconds)
    return seconds


async def guest_lookup(context: Context, number: str) -> None:
    """Refuse with THROTTLED a lookup by order number past the limits per client or per
    order and client.

    Call it before looking the order up, whatever the outcome will be, so a wrong guess costs
    the same as a right one.
    """
    guards: Guards | None = getattr(context.deps, "guards", None)
    if guards is None:
        return
    # per client, and per (order, client): a stranger guessing one order's email spends
    # their own lookups, never the owner's (a per-order bucket let anyone lock the owner
    # out, even before the order existed: numbers are sequential)
    caller = caller_key(context)
    checks = ((f"guest:{caller}", guards.guest_per_client),
              (f"guest-order:{number.strip().upper()}:{caller}", guards.guest_per_order))
    for key, bucket in checks:
        if bucket is None:
            continue
        decision = await guards.buckets.take(key, 1, bucket)
        if not decision.allowed:
            seconds = _retry_after(context, decision)
            raise Throttled(f"too many order lookups; try again in {seconds} s",
                            retry_after=seconds)


class RequestGuard(SchemaExtension):
    """Token cap at parsing; cost, page sizes, input lists and the budget before execution.

    Listed after ValidationCache: its `on_validate` reads the verdict that one leaves.
    """

    def __init__(self, *, limits: limits.Limits,
                 rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.limits, self.rules = limits, rules
        self.cost: int | None = None
        self.decision: Decision | None = None
        self.budget: Bucket | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options = {**context.parse_options, "max_tokens": self.limits.max_tokens}
        # the document-only rules (shape, introspection) join graphql-core's, so
        # ValidationCache keeps their verdict with the rest
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        # graphql-core's parser stops at the token cap, and at a nesting its own recursion
        # could not survive; both are our limits, with our codes
        for error in self.execution_context.pre_execution_errors or ():
            if not isinstance(error, GraphQLSyntaxError):
                continue
            if "tokens. Parsing aborted" in error.message:
                error.message = f"the document has more than {self.limits.max_tokens} tokens"
                error.extensions = {"code": limits.TOKENS, "limit": self.limits.max_tokens}
            elif "nested too deeply" in error.message:
                error.message = (f"the document is nested deeper than {self.limits.max_depth} "
                                 "levels")
                error.extensions = {"code": limits.DEPTH, "limit": self.limits.max_depth}

    async def on_validate(self):
        # runs after ValidationCache has validated (it is listed before this extension)
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            error = await self._admit(context.graphql_document)
            if error is not None:
                context.pre_execution_errors = [error]
        yield

    async def _admit(self, document: DocumentNode) -> GraphQLError | None:
        context = self.execution_context
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return None  # graphql-core explains the missing or ambiguous operation
        if operation.operation is OperationType.SUBSCRIPTION and not isinstance(
                getattr(context.context, "request", None), WebSocket):
            # over HTTP a subscription's resolver has no stream to answer on
            return GraphQLError("subscriptions are served over WebSocket "
                                "(graphql-transport-ws) at /graphql, not over HTTP",
                                nodes=operation, extensions={"code": "BAD_REQUEST"})
        try:
            self.cost = limits.measure(context.schema._schema, document, operation,
                                       context.variables, self.limits)
        except GraphQLError as refusal:
            self.cost = (refusal.extensions or {}).get("cost")  # reported when it was measured
            return refusal
        app_context = context.context
        guards: Guards | None = getattr(getattr(app_context, "deps", None), "guards", None)
        if guards is None:
            return None
        self.budget = guards.budget
        self.decision = await guards.spend(caller_key(app_context), self.cost)
        if self.decision is None or self.decision.allowed:
            return None
        seconds = _retry_after(app_context, self.decision)
        return GraphQLError(f"cost budget spent; try again in {seconds} s", nodes=operation,
                            extensions={"code": THROTTLED, "retryAfter": seconds})

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        cost: dict[str, Any] = {"requested": self.cost, "limit": self.limits.max_cost}
        if self.decision is not None and self.budget is not None:
            cost["throttle"] = {"remaining": int(self.decision.remaining),
                                "capacity": int(self.budget.capacity),
                                "refillPerSecond": self.budget.refill_per_second}
        return {"cost": cost}
