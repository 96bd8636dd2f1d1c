"""What sourcing needs stored and read: policies, decisions, capacity, downtime, and the one
snapshot a plan is made from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.catalog import Channel, Location, Sku
from domain.catalog.ports import CatalogRepository
from domain.inventory import Incoming, InventoryLevel
from domain.inventory.ports import InventoryRepository, LevelKey
from domain.kernel.ports import IdempotencyRecord, Transaction
from domain.sourcing import Decision
from domain.sourcing.policy import BUILT_IN, SourcingPolicy
from domain.sourcing.shipping import Downtime


@dataclass(frozen=True, slots=True)
class SourcingSnapshot:
    """Everything placing an order reads before it writes (no lock held)."""

    channel: Channel | None
    skus: dict[str, Sku]
    locations: dict[str, Location]
    levels: dict[LevelKey, InventoryLevel]
    incoming: dict[str, list[Incoming]]
    policy: SourcingPolicy = BUILT_IN  # the channel's current policy
    downtime: dict[str, list[Downtime]] = field(default_factory=dict)  # not yet over
    load: dict[str, int] = field(default_factory=dict)  # fulfillments assigned today
    # read first when asked for: the order this idempotency key already placed (then nothing
    # else is read)
    idempotency: IdempotencyRecord | None = None


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A sourcing decision as kept for an order (placement, then each re-sourcing)."""

    id: str
    order_number: str
    kind: str  # PLACEMENT | RESOURCING
    decision: Decision


class SourcingRepository(Protocol):
    async def save_policy(self, policy: SourcingPolicy) -> SourcingPolicy:
        """Store the next version of the channel's policy and return it, numbered."""

    async def save_decision(self, *, order_id: str, kind: str, decision: Decision) -> str: ...

    async def claim_capacity(self, location: str, day: str, capacity: int) -> bool:
        """Count one more fulfillment at `location` on local `day` if under `capacity`."""

    async def add_downtime(self, window: Downtime, *, actor: str) -> None: ...


class SnapshotReader(Protocol):
    async def sourcing_snapshot(self, *, channel: str, skus: list[str],
                                now: datetime | None = None,
                                idempotency_key: str | None = None) -> SourcingSnapshot:
        """Catalog, channel locations, stock, receipts, and — as of `now` — the channel's
        policy, downtime not yet over and today's load per location. With `idempotency_key`,
        first the key's record in the same read; when there is one, only that."""


class Reader(SnapshotReader, Protocol):
    async def downtime(self, location: str, *, now: datetime) -> list[Downtime]: ...
    async def sourcing_policies(self, *, channel: str | None,
                                history: bool) -> list[SourcingPolicy]: ...
    async def sourcing_decisions(self, number: str) -> list[RecordedDecision]: ...


class UnitOfWork(Transaction, Protocol):
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def sourcing(self) -> SourcingRepository: ...


class ReservingUnitOfWork(Transaction, Protocol):
    """Enough of a transaction to hold a plan: stock and receipts, and capacity."""

    @property
    def inventory(self) -> InventoryRepository: ...
    @property
    def sourcing(self) -> SourcingRepository: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
