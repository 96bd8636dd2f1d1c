"""The ports every context shares: the clock, one write transaction, exactly-once requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, Self, TypeVar

from domain.kernel import events

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


class Transaction(Protocol):
    """One write transaction: nothing is kept unless `commit` is called; the events emitted
    are written to the outbox in the same commit."""

    def emit(self, *new: events.Event) -> None: ...
    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    order_id: str


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Record the key; return the existing record instead if the key is taken."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int
    has_next: bool
    cursors: list[str]
