"""One execution of an event for every subscriber who asked the same question about it.

A commit may reach a thousand subscribers, most of them with the same document. The event
objects they are handed are built once per batch of events (and per view: a guest's order
event is another object than an agent's), so executing document D with variables V on event
E gives every one of them the same result: it is computed once and memoised on the event.

Whether a subscriber may follow a stream is decided when subscribing, and by which event
object a subscriber is given. Fields under an event may still show more or less to different
principals (an order's customer to a store associate, a location's cost model to staff), so a
result is shared only within one audience (`access.audience`): principals who see the same.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from domain import access


class SharedEvent:
    """Mixin for event types whose execution results may be shared (see the module doc).

    Subclasses declare `memo: strawberry.Private[dict]`, a fresh dict per event object.
    """


def _variables_key(variables: Any) -> str:
    coerced = getattr(variables, "coerced", variables) or {}
    return json.dumps(coerced, sort_keys=True, default=str, separators=(",", ":"))


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        memo = getattr(self.root_value, "memo", None)
        if (not isinstance(self.root_value, SharedEvent) or not isinstance(memo, dict)
                or self.operation.operation is not OperationType.SUBSCRIPTION):
            return super().execute_operation(serially)
        principal = getattr(self.context_value, "principal", None)
        audience = access.audience(principal) if principal is not None else ()
        key = (id(self.operation), _variables_key(self.variable_values), audience)
        hit = memo.get(key)
        # the operation is kept with its result, so its id cannot be reused meanwhile
        if hit is None or hit[0] is not self.operation:
            result = super().execute_operation(serially)
            if self.is_awaitable(result):
                result = asyncio.ensure_future(result)
            hit = memo[key] = (self.operation, result)
        result = hit[1]
        return asyncio.shield(result) if isinstance(result, asyncio.Future) else result
