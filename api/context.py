"""Per-request context: the principal, the bound use cases' ports, and fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from domain.access import Principal
from domain.catalog import Location
from domain.ports import Clock, UnitOfWorkFactory
from domain.sourcing import Sourcer

T = TypeVar("T")


@dataclass(frozen=True)
class Dependencies:
    """Built once in the app's lifespan (the composition root) and shared by requests."""

    reader: Any  # persistence.reads.SqlReader: the API's read side
    uow: UnitOfWorkFactory
    clock: Clock
    sourcer: Sourcer
    retrying: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
    realtime: Any = None  # api.realtime.Realtime: live subscriptions


@dataclass
class Loaders:
    """One set per request, so batches never leak between principals."""

    location: DataLoader[str, Location | None]


def make_loaders(deps: Dependencies) -> Loaders:
    async def load_locations(codes: list[str]) -> list[Location | None]:
        found = await deps.reader.locations(codes)
        return [found.get(code) for code in codes]

    return Loaders(location=DataLoader(load_fn=load_locations))


@dataclass
class Context:
    principal: Principal
    deps: Dependencies
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    # WebSocket only: the connection_init payload (strawberry sets it) and why the handshake's
    # own Authorization header, if any, was refused
    connection_params: dict[str, Any] | None = None
    header_error: str | None = None

    def fresh_loaders(self) -> None:
        """A long-lived WebSocket context starts each delivery with empty loader caches."""
        self.loaders = make_loaders(self.deps)

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a write use case, again from the start on a transient database conflict."""
        return await self.deps.retrying(work)
