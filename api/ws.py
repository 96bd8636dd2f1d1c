"""graphql-transport-ws as we speak it: who the socket is, and two answers instead of closes.

Strawberry implements the protocol and its close codes (4400 bad message, 4401 subscribe
before connection_ack, 4403 connection refused, 4406 subprotocol, 4408 init timeout, 4409
duplicate id, 4429 second connection_init). We change what it does in two places:
- a subscription past the per-connection cap gets an `error` message with
  `extensions.code = TOO_MANY_SUBSCRIPTIONS` (strawberry sends one without a code);
- a socket authenticated with a token that has `exp` is closed with 4403 when it expires
  (the token no longer proves who is listening);
- a document that does not parse gets an `error` message (code BAD_REQUEST) and the socket
  stays open; strawberry would close the whole connection with 4400, taking every other
  subscription on it down with the bad one.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from api.auth import MAX_DAYS, InvalidToken, expires_at, principal_from_header
from api.context import Context

TOKEN_EXPIRES_AT = "token_expires_at"


class PromessaTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    expiry_task: asyncio.Task | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        expiry = (self.context.extra.get(TOKEN_EXPIRES_AT)
                  if isinstance(self.context, Context) else None)
        if self.connection_acknowledged and expiry is not None and self.expiry_task is None:
            self.expiry_task = asyncio.create_task(self._close_at(expiry))

    async def _close_at(self, expiry: float) -> None:
        """The socket lives no longer than its token: at `exp` it is closed with 4403."""
        await asyncio.sleep(max(0.0, expiry - time.time()))
        with suppress(Exception):  # already gone
            await self.websocket.close(code=4403, reason="Token expired")

    async def shutdown(self) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry_task
        await super().shutdown()

    async def handle_message(self, message: Any) -> None:
        """A message the protocol does not define is closed with 4400 (not a dropped socket
        and a traceback): `[1]`, a subscribe with `payload: null` or `variables: [1]`, …"""
        problem = malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if (self.connection_acknowledged and isinstance(message, dict)
                and message.get("id") not in self.operations
                and limit is not None and len(self.operations) >= limit):
            error = GraphQLError(f"at most {limit} subscriptions per connection",
                                 extensions={"code": "TOO_MANY_SUBSCRIPTIONS"})
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        if isinstance(error, GraphQLSyntaxError):
            return None
        return BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)


def malformed(message: Any) -> str | None:
    """What is wrong with a graphql-transport-ws message's shape, if anything."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be an object with a string `type`"
    kind, payload = message["type"], message.get("payload")
    if kind in ("subscribe", "complete") and not (isinstance(message.get("id"), str)
                                                  and message["id"]):
        return f"{kind} needs a non-empty string `id`"
    if kind == "subscribe":
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "subscribe needs a `payload` with a `query` string"
        for name, kinds in (("variables", dict), ("extensions", dict), ("operationName", str)):
            if payload.get(name) is not None and not isinstance(payload[name], kinds):
                what = 'an object' if kinds is dict else 'a string'
                return f"subscribe's `{name}` must be {what}"
    elif kind in ("connection_init", "ping", "pong") and payload is not None \
            and not isinstance(payload, dict):
        return f"{kind}'s `payload` must be an object"
    return None


def authenticate_connection(context: Context, *, secret: str,
                            max_days: float = MAX_DAYS) -> None:
    """Set the socket's principal from `{"Authorization": "Bearer <JWT>"}` in connection_init.

    Without it, the handshake's own Authorization header (non-browser clients) counts; with
    neither the socket is anonymous. A token that is present but unusable refuses the
    connection (4403), as a bad header is answered 401 over HTTP.
    """
    params = context.connection_params or {}
    header = params.get("Authorization", params.get("authorization"))
    if header is None:
        if context.header_error is not None:
            raise ConnectionRejectionError({"message": context.header_error})
        handshake = context.request.headers.get("authorization") if context.request else None
        context.extra[TOKEN_EXPIRES_AT] = expires_at(handshake, secret=secret)
        return
    if not isinstance(header, str):
        raise ConnectionRejectionError({"message": "Authorization must be a string"})
    try:
        context.principal = principal_from_header(header, secret=secret, max_days=max_days)
    except InvalidToken as exc:
        raise ConnectionRejectionError({"message": str(exc)}) from None
    context.extra[TOKEN_EXPIRES_AT] = expires_at(header, secret=secret)
