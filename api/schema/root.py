"""The schema: every area's queries and mutations on one root."""

from __future__ import annotations

import functools

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import ParserCache, ValidationCache

from api.authorization import guard
from api.errors import ErrorCodes, ProductionErrorCodes
from api.guard import RequestGuard
from api.limits import Limits, shape_rule
from api.observability import Observe
from api.schema.catalog import CatalogMutation, CatalogQuery
from api.schema.checkout import OrderMutation
from api.schema.customers import CustomerQuery
from api.schema.fulfillment import FulfillmentMutation, FulfillmentQuery
from api.schema.integration import IntegrationMutation, IntegrationQuery
from api.schema.inventory import InventoryMutation, InventoryQuery
from api.schema.nodes import NodeQuery
from api.schema.notifications import NotificationMutation
from api.schema.operations import OperationsQuery
from api.schema.orders import OrderQuery
from api.schema.payments import PaymentMutation
from api.schema.promise import PromiseQuery
from api.schema.returns import ReturnMutation, ReturnQuery
from api.schema.service_desk import ServiceDeskMutation
from api.schema.shared_execution import SharedEventExecutor
from api.schema.sourcing import SourcingMutation, SourcingQuery
from api.schema.subscriptions import Subscription


@strawberry.type(description="Everything a client can read.")
class Query(CatalogQuery, InventoryQuery, OrderQuery, FulfillmentQuery, CustomerQuery,
            PromiseQuery, SourcingQuery, OperationsQuery, ReturnQuery, NodeQuery,
            IntegrationQuery):
    pass


@strawberry.type(description="Everything a client can change; refusals come as userErrors.")
class Mutation(CatalogMutation, InventoryMutation, OrderMutation, FulfillmentMutation,
               ServiceDeskMutation, SourcingMutation, ReturnMutation, IntegrationMutation,
               PaymentMutation, NotificationMutation):
    pass


class SafeParserCache(ParserCache):
    """strawberry's ParserCache raises a syntax error out of its hook, which the streaming
    (WebSocket) path does not catch: the operation dies with a logged traceback and a bare
    `complete`. Leaving the document unparsed lets strawberry's own parse report it."""

    def on_parse(self):
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query,
                                                                  **context.parse_options)
        except GraphQLError:
            pass
        yield


class PromessaSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Refusals and bad requests are answers, not incidents: `ErrorCodes` logs the rest."""


class NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, with a code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(GraphQLError(error.message, error.nodes,
                                          extensions={"code": "INTROSPECTION_DISABLED"}))


@functools.lru_cache(maxsize=16)
def build_schema(*, limits: Limits | None = None, introspection: bool = True,
                 production: bool = False) -> strawberry.Schema:
    """The schema; `limits` guard every request (api/limits.py, api/guard.py).

    Built once per set of arguments and shared: a schema holds no state of an app, and
    building one takes ~50 ms (the test suite builds an app per test)."""
    guard(Query, Mutation, Subscription)
    limits = limits or Limits()
    rules = (shape_rule(limits), *(() if introspection else (NoIntrospection,)))
    return PromessaSchema(
        query=Query, mutation=Mutation, subscription=Subscription,
        execution_context_class=SharedEventExecutor,
        # order matters: RequestGuard reads the verdict ValidationCache leaves
        extensions=[Observe, ProductionErrorCodes if production else ErrorCodes,
                    lambda: SafeParserCache(maxsize=1000),
                    lambda: ValidationCache(maxsize=1000),
                    lambda: RequestGuard(limits=limits, rules=rules)])


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
