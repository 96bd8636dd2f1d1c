"""Domain errors become userErrors (mutations) or coded top-level errors (queries), once."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from api.observability import current_request_id, new_request_id
from domain.kernel.errors import DomainError

log = logging.getLogger("promessa.errors")
T = TypeVar("T")
# what strawberry raises, outside any field, for a request of the wrong shape
REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)
# graphql-core's hints at names the schema has ("Did you mean 'code'?"): kept out in production
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


@strawberry.type(description="A business refusal: nothing was changed.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the offending input field, e.g. ['lines', '0', 'quantity'].")
    message: str = strawberry.field(description="What is wrong, for a person to read.")
    code: str = strawberry.field(description="Stable machine-readable code.")

    @classmethod
    def from_domain(cls, exc: DomainError) -> UserError:
        return cls(field=exc.field, message=exc.message, code=exc.code)


async def attempt(work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; a domain refusal becomes the payload's userErrors."""
    try:
        return await work(), []
    except DomainError as exc:
        return None, [UserError.from_domain(exc)]


async def attempt_item(work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """`attempt` for one item of a batch, which also answers a failure nobody expected (masked
    and logged whole, as for a field): the items before it are committed already, and one
    broken item must not hide their answers from the caller."""
    try:
        return await attempt(work)
    except Exception:
        request_id = current_request_id() or new_request_id()
        log.exception("unexpected error (request %s) in an item of a batch", request_id)
        return None, [UserError(field=None, message=f"Unexpected error (request {request_id})",
                                code="INTERNAL")]


class ErrorCodes(SchemaExtension):
    """Give every top-level error a code; mask everything unexpected, logging it whole.

    HTTP results are shaped when the operation ends; results streamed over a WebSocket (each
    subscription event, and queries sent there) as each is sent.
    """

    hide_suggestions = False

    async def on_operation(self):
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._shape(e, self.hide_suggestions) for e in result.errors]

    def on_stream_result(self, result):
        if getattr(result, "errors", None):
            result.errors = [self._shape(e, self.hide_suggestions) for e in result.errors]
        yield

    @staticmethod
    def _shape(error: GraphQLError, hide_suggestions: bool = False) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return GraphQLError(original.message, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                extensions={**(error.extensions or {}), "code": original.code,
                                            **getattr(original, "extensions", {})})
        # without a path or a node, an exception that is not a request error escaped a
        # subscription's event stream: unexpected, like one from a resolver
        if original is None or isinstance(original, (GraphQLError, *REQUEST_ERRORS)) or (
                error.path is None and error.nodes):
            code = (error.extensions or {}).get("code", "BAD_REQUEST")
            message = SUGGESTION.sub("", error.message) if hide_suggestions else error.message
            return GraphQLError(message, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                extensions={**(error.extensions or {}), "code": code})
        # the request's own id (also in the X-Request-ID response header and its log line)
        request_id = current_request_id() or new_request_id()
        log.error("unexpected error (request %s) at %s", request_id, error.path,
                  exc_info=(type(original), original, original.__traceback__))
        return GraphQLError("Unexpected error", nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={"code": "INTERNAL", "requestId": request_id})


class ProductionErrorCodes(ErrorCodes):
    """In production validation errors do not suggest field, argument or value names."""

    hide_suggestions = True
