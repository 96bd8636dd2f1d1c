"""Relay `node` and `nodes`: any object by its global id, under the same rules as the direct
queries (domain/access/__init__.py). An unknown id, a malformed one and one the caller may not
see all answer the same null, so ids cannot be probed for existence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from strawberry import relay

from api.context import Context
from api.schema.catalog import Location, Sku
from api.schema.orders import Fulfillment, Order
from domain import access
from domain.kernel import errors

MAX_NODES = 100
Info = strawberry.Info[Context, None]


async def _orders(info: Info, ids: list[str]) -> list[Any]:
    found = await info.context.loaders.order.load_many(ids)
    principal = info.context.principal
    return [Order.from_domain(o) if o and access.order_view(principal, o) else None
            for o in found]


async def _fulfillments(info: Info, ids: list[str]) -> list[Any]:
    found = await info.context.loaders.fulfillment_order.load_many(ids)
    out: list[Any] = []
    for fid, order in zip(ids, found, strict=True):
        view = access.order_view(info.context.principal, order) if order else None
        f = next((x for x in order.fulfillments if x.id == fid), None) if order else None
        if order and view is not None and f is not None and view.shows(f.location):
            out.append(Fulfillment.from_domain(f, order_id=order.id, order=order))
        else:
            out.append(None)
    return out


async def _locations(info: Info, codes: list[str]) -> list[Any]:
    found = await info.context.loaders.location.load_many(codes)
    return [Location.from_domain(x) if x else None for x in found]


async def _skus(info: Info, codes: list[str]) -> list[Any]:
    found = await info.context.loaders.sku.load_many(codes)
    return [Sku.from_domain(x) if x else None for x in found]


# type name in the global id -> how a batch of its ids is loaded and filtered
RESOLVERS: dict[str, Callable[[Info, list[str]], Awaitable[list[Any]]]] = {
    "Order": _orders, "Fulfillment": _fulfillments, "Location": _locations, "Sku": _skus}


def _parse(value: str) -> tuple[str, str] | None:
    try:
        gid = relay.GlobalID.from_id(value)
    except ValueError:
        return None
    if gid.type_name not in RESOLVERS or not 0 < len(gid.node_id) <= 64 or \
            "\x00" in gid.node_id:  # PostgreSQL refuses NUL in text: no such object
        return None
    return gid.type_name, gid.node_id


async def _resolve(info: Info, ids: Sequence[str]) -> list[Any]:
    """One batch per type, answers in the order asked."""
    parsed = [_parse(str(i)) for i in ids]
    wanted: dict[str, list[str]] = {}
    for p in parsed:
        if p is not None and p[1] not in wanted.setdefault(p[0], []):
            wanted[p[0]].append(p[1])
    kinds = list(wanted)
    loaded = await asyncio.gather(*(RESOLVERS[k](info, wanted[k]) for k in kinds))
    found = {(k, key): obj for k, objs in zip(kinds, loaded, strict=True)
             for key, obj in zip(wanted[k], objs, strict=True)}
    return [found.get(p) if p else None for p in parsed]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any Order, Fulfillment, Location or Sku by its global `id`; "
                                  "null when unknown or not yours to see.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return (await _resolve(info, [id]))[0]

    @strawberry.field(description="Up to 100 objects by global id, in the order asked; null "
                                  "for each unknown or not yours to see.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise errors.InvalidInput(f"at most {MAX_NODES} ids", field=["ids"])
        return await _resolve(info, ids)
