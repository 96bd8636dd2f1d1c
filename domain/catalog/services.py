"""Catalog and network use cases: upsert locations and SKUs, change a channel."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from domain import access
from domain.access import Principal
from domain.catalog import Channel, ChannelMail, Location, Sku
from domain.catalog.ports import UnitOfWorkFactory
from domain.kernel import errors
from domain.kernel.events import Event
from domain.kernel.ports import Clock

CATALOG_STREAM = "catalog"
MAX_BATCH = 250


def _check_batch(items: Sequence[object], *, field: str) -> None:
    if not items:
        raise errors.InvalidInput(f"{field} must not be empty", field=[field])
    if len(items) > MAX_BATCH:
        raise errors.InvalidInput(f"at most {MAX_BATCH} {field} per call", field=[field])


async def upsert_locations(uow: UnitOfWorkFactory, locations: list[Location], *,
                           principal: Principal, clock: Clock) -> list[Location]:
    access.require(principal, "catalog.write")
    _check_batch(locations, field="locations")
    codes = [loc.code for loc in locations]
    if len(set(codes)) != len(codes):
        raise errors.InvalidInput("a location code appears twice", field=["locations"])
    async with uow() as tx:
        known = {c.code for c in await tx.catalog.channels()}
        for i, loc in enumerate(locations):
            for j, channel in enumerate(loc.channels):
                if channel not in known:
                    raise errors.UnknownChannel(f"unknown channel {channel!r}",
                                                field=["locations", str(i), "channels", str(j)])
        await tx.catalog.save_locations(locations)
        tx.emit(Event("LOCATIONS_UPSERTED", clock.now(), (CATALOG_STREAM,), {"codes": codes}))
        await tx.commit()
    return locations


async def upsert_skus(uow: UnitOfWorkFactory, skus: list[Sku], *, principal: Principal,
                      clock: Clock) -> list[Sku]:
    access.require(principal, "catalog.write")
    _check_batch(skus, field="skus")
    codes = [s.sku for s in skus]
    if len(set(codes)) != len(codes):
        raise errors.InvalidInput("a sku appears twice", field=["skus"])
    async with uow() as tx:
        referenced = {c.sku for s in skus for c in s.components}
        known = await tx.catalog.skus(referenced | set(codes))
        batch = {s.sku: s for s in skus}
        for i, sku in enumerate(skus):
            existing = known.get(sku.sku)
            if existing is not None and existing.is_kit != sku.is_kit:
                raise errors.InvalidInput(f"{sku.sku} cannot change between kit and item",
                                          field=["skus", str(i), "components"])
            for j, component in enumerate(sku.components):
                part = batch.get(component.sku) or known.get(component.sku)
                if part is None:
                    raise errors.UnknownSku(f"unknown component {component.sku!r}",
                                            field=["skus", str(i), "components", str(j), "sku"])
                if part.is_kit:
                    raise errors.InvalidInput(f"{component.sku} is a kit; kits do not nest",
                                              field=["skus", str(i), "components", str(j), "sku"])
        await tx.catalog.save_skus(skus)
        tx.emit(Event("SKUS_UPSERTED", clock.now(), (CATALOG_STREAM,), {"skus": codes}))
        await tx.commit()
    return skus


async def update_channel(uow: UnitOfWorkFactory, code: str, *, payment_required: bool | None,
                         principal: Principal, mail: ChannelMail | None = None) -> Channel:
    """Change a channel's settings (admins): whether it takes orders only with a payment, and
    how its mails look (a field of `mail` left None stays as it is; "" clears it)."""
    access.require(principal, "channels.manage")
    if mail is not None:
        mail = mail.checked()
    async with uow() as tx:
        found = next((c for c in await tx.catalog.channels() if c.code == code), None)
        if found is None:
            raise errors.UnknownChannel(f"unknown channel {code!r}", field=["code"])
        if payment_required is not None:
            found = dataclasses.replace(found, payment_required=payment_required)
        if mail is not None:
            found = mail.apply(found)
        await tx.catalog.save_channel(found)
        await tx.commit()
    return found
