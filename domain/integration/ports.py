"""What the integration use cases need from storage: endpoints, and the consumers' jobs as an
operator sees them. Each call is its own short transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.integration import WebhookEndpoint
from domain.kernel.ports import Page


class JobStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its turn, its next attempt, or in flight
    DONE = "DONE"  # the handler succeeded
    PARKED = "PARKED"  # the last attempt failed: an operator retries or skips it
    SKIPPED = "SKIPPED"  # an operator gave up on it


@dataclass(frozen=True, slots=True)
class Job:
    """One event for one consumer's handler (for webhooks: one endpoint's delivery)."""

    id: int
    consumer: str
    target: str
    event_id: str
    event_type: str
    status: JobStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    done_at: datetime | None = None
    parked_at: datetime | None = None


class WebhookEndpoints(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> None: ...
    async def get(self, endpoint_id: str) -> WebhookEndpoint | None: ...
    async def save(self, endpoint: WebhookEndpoint, *, was: datetime,
                   park_pending: str | None = None) -> None:
        """Write every field if its `updated_at` is still `was` (else errors.Conflict); with
        `park_pending`, the endpoint's waiting deliveries are parked with that reason in the
        same transaction (it was disabled)."""
    async def delete(self, endpoint_id: str) -> bool: ...
    async def all(self) -> list[WebhookEndpoint]: ...


class OperatorJobs(Protocol):
    async def page(self, *, consumer: str, target: str | None, statuses: Sequence[JobStatus],
                   first: int, after: int | None) -> Page[Job]: ...
    async def retry(self, *, consumer: str, ids: Sequence[int], now: datetime) -> int:
        """Parked (or skipped) jobs of `consumer` among `ids` become pending, due now."""
    async def skip(self, *, consumer: str, ids: Sequence[int], now: datetime) -> int: ...

    async def resolved(self, *, consumer: str, partition: str, now: datetime) -> int:
        """Parked jobs of `consumer` in `partition` are DONE: what they were for was done
        another way (an agent's retry); the operator's list no longer offers them."""
    async def redeliver(self, *, endpoint: WebhookEndpoint, ids: Sequence[int] | None,
                        since: datetime | None, now: datetime) -> int:
        """Queue the endpoint's deliveries again: the given ones, or every event since a time
        that the endpoint wants (also those written while it was disabled)."""


class IntegrationStore(Protocol):
    @property
    def endpoints(self) -> WebhookEndpoints: ...
    @property
    def jobs(self) -> OperatorJobs: ...
