"""What the domain needs from the outside world, as protocols persistence implements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Self

from domain import events
from domain.catalog import Channel, Location, Sku
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.money import Money
from domain.orders import FulfillmentStatus, Order
from domain.policy import BUILT_IN, SourcingPolicy
from domain.returns import Return
from domain.shipping import Downtime
from domain.sourcing import Decision

LevelKey = tuple[str, str]  # (sku, location)


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    order_id: str


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


@dataclass(frozen=True, slots=True)
class OrderSearch:
    """Criteria of an order search; `fulfilled_from` keeps orders with work there."""

    customer_email: str | None = None
    statuses: tuple[str, ...] = ()
    channel: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    fulfilled_from: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list
    total_count: int
    has_next: bool
    cursors: list[str]


class CatalogRepository(Protocol):
    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]: ...
    async def locations(self, codes: Iterable[str]) -> dict[str, Location]: ...
    async def save_skus(self, skus: list[Sku]) -> None: ...
    async def save_locations(self, locations: list[Location]) -> None: ...
    async def channels(self) -> list[Channel]: ...


class InventoryRepository(Protocol):
    async def levels_for_update(self, keys: list[LevelKey]) -> dict[LevelKey, InventoryLevel]:
        """Lock and return levels; keys without a row come back as zero levels."""

    async def save_levels(self, levels: list[InventoryLevel]) -> None: ...

    async def reserve(self, wants: list[tuple[str, str, int]]) -> list[InventoryLevel] | None:
        """Reserve each (sku, location, units) only if available; all or nothing (None)."""

    async def move(self, changes: list[tuple[str, str, int, int]]) -> list[InventoryLevel] | None:
        """Apply (sku, location, onHand delta, reserved delta) where the level stays valid;
        all or nothing (None)."""

    async def append_ledger(self, entries: list[LedgerEntry]) -> None: ...
    async def add_incoming(self, incoming: Incoming) -> None: ...
    async def allocate_incoming(self, incoming_id: str, units: int) -> bool: ...
    async def incoming(self, incoming_id: str) -> Incoming | None: ...

    async def receive_incoming(self, incoming_id: str, quantity: int) -> bool:
        """Mark a receipt received, once; False when it already was."""

    async def release_incoming(self, incoming_id: str, units: int) -> bool: ...

    async def release(self, wants: list[tuple[str, str, int]]) -> list[InventoryLevel] | None:
        """Give back reserved units per (sku, location, units); all or nothing (None)."""


class OrderRepository(Protocol):
    async def next_number(self) -> str: ...
    async def add(self, order: Order) -> None: ...

    async def get(self, *, number: str | None = None,
                  fulfillment_id: str | None = None) -> Order | None:
        """The order (by number, or holding the fulfillment), locked for this transaction."""

    async def get_many(self, ids: list[str]) -> list[Order]: ...

    async def save(self, order: Order) -> None:
        """Write what changed since the order was loaded."""

    async def waiting_backorders(self, sku: str, location: str, *, units: int
                                 ) -> list[tuple[str, str]]:
        """(order id, line id) backordered against receipts of sku at location, first come
        first served, as many as wait for `units` in all."""


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Record the key; return the existing record instead if the key is taken."""


class SourcingRepository(Protocol):
    async def save_policy(self, policy: SourcingPolicy) -> SourcingPolicy:
        """Store the next version of the channel's policy and return it, numbered."""

    async def save_decision(self, *, order_id: str, kind: str, decision: Decision) -> str: ...

    async def claim_capacity(self, location: str, day: str, capacity: int) -> bool:
        """Count one more fulfillment at `location` on local `day` if under `capacity`."""

    async def add_downtime(self, window: Downtime, *, actor: str) -> None: ...


class ReturnRepository(Protocol):
    async def for_order(self, order_id: str) -> list[Return]:
        """The order's returns with their lines and refunds (lock the order first)."""

    async def order_number_of(self, return_number: str) -> str | None: ...
    async def add(self, ret: Return) -> None: ...

    async def save(self, ret: Return) -> None:
        """Write the return's status, its lines' conditions and refunds not yet written."""


@dataclass(frozen=True, slots=True)
class PaymentReceipt:
    reference: str
    provider: str


class PaymentGateway(Protocol):
    """Where money goes back to the customer. The same `idempotency_key` twice refunds once
    and answers with the same receipt (a retried transaction must not pay twice)."""

    async def refund(self, *, order_number: str, amount: Money, idempotency_key: str,
                     store_credit: bool) -> PaymentReceipt: ...


class UnitOfWork(Protocol):
    """One write transaction: nothing is kept unless `commit` is called."""

    catalog: CatalogRepository
    inventory: InventoryRepository
    orders: OrderRepository
    idempotency: IdempotencyRepository
    sourcing: SourcingRepository
    returns: ReturnRepository

    def emit(self, *new: events.Event) -> None: ...
    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Reader(Protocol):
    """Reads without a write lock, for decisions that are re-checked when writing."""

    async def sourcing_snapshot(self, *, channel: str, skus: list[str],
                                now: datetime | None = None,
                                idempotency_key: str | None = None) -> SourcingSnapshot:
        """Catalog, channel locations, stock, receipts, and — as of `now` — the channel's
        policy, downtime not yet over and today's load per location. With `idempotency_key`,
        first the key's record in the same read; when there is one, only that."""

    async def idempotency(self, key: str) -> IdempotencyRecord | None: ...
    async def order_by_id(self, order_id: str) -> Order | None: ...
    async def order_by_fulfillment(self, fulfillment_id: str) -> Order | None: ...
    async def order_by_number(self, number: str) -> Order | None: ...
    async def fulfillments_at(self, location: str,
                              statuses: tuple[FulfillmentStatus, ...]) -> list[str]: ...
    async def downtime(self, location: str, *, now: datetime) -> list[Downtime]: ...
    async def sourcing_policies(self, *, channel: str | None,
                                history: bool) -> list[SourcingPolicy]: ...
    async def sourcing_decisions(self, number: str) -> list[RecordedDecision]: ...
