"""What the catalog needs stored: SKUs, locations and channels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from domain.catalog import Channel, Location, Sku
from domain.kernel.ports import Transaction


class CatalogRepository(Protocol):
    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]: ...
    async def locations(self, codes: Iterable[str]) -> dict[str, Location]: ...
    async def save_skus(self, skus: list[Sku]) -> None: ...
    async def save_locations(self, locations: list[Location]) -> None: ...
    async def channels(self) -> list[Channel]: ...

    async def save_channel(self, channel: Channel) -> None:
        """Write an existing channel's settings."""


class CatalogReader(Protocol):
    """Catalog reads outside a write transaction."""

    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]: ...
    async def locations(self, codes: Iterable[str] | None = None) -> dict[str, Location]:
        """These locations, or every location when `codes` is None."""

    async def channels(self) -> list[Channel]: ...


class UnitOfWork(Transaction, Protocol):
    @property
    def catalog(self) -> CatalogRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
