"""Use cases of the integration context: webhook endpoints, their deliveries, parked events.

Admins manage every endpoint; an integration manages the endpoints it created (two
integrations of one retailer do not read or rotate each other's). Parked events are an
operator's (admin) business.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.access import Principal, Role
from domain.integration import (
    ROTATION_OVERLAP,
    WebhookEndpoint,
    check_description,
    check_event_types,
    check_url,
    signing,
)
from domain.integration.ports import IntegrationStore, Job, JobStatus
from domain.kernel import errors
from domain.kernel.ports import Clock, Page

MAX_PAGE = 100  # as every other page (api/limits.py)
MAX_IDS = 1000
CONSUMERS = ("webhooks", "broker", "payments")


@dataclass(frozen=True, slots=True)
class EndpointChange:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def _mine(principal: Principal, endpoint: WebhookEndpoint | None) -> bool:
    return endpoint is not None and (principal.role is Role.ADMIN
                                     or endpoint.created_by == principal.actor)


async def _endpoint(store: IntegrationStore, endpoint_id: str, principal: Principal,
                    field: list[str]) -> WebhookEndpoint:
    found = await store.endpoints.get(endpoint_id) if len(endpoint_id) <= 64 else None
    if not _mine(principal, found):
        raise errors.NotFound(f"no webhook endpoint {endpoint_id[:64]!r}", field=field)
    assert found is not None
    return found


async def create_endpoint(store: IntegrationStore, *, url: str, event_types: list[str],
                          description: str | None, principal: Principal,
                          clock: Clock) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is shown this once."""
    now = clock.now()
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()), url=check_url(url, field=["url"]),
        event_types=check_event_types(event_types, field=["eventTypes"]),
        description=check_description(description, field=["description"]),
        secret=signing.new_secret(), created_by=principal.actor, created_at=now,
        updated_at=now)
    await store.endpoints.add(endpoint)
    return endpoint, endpoint.secret


async def update_endpoint(store: IntegrationStore, endpoint_id: str, change: EndpointChange,
                          *, principal: Principal, clock: Clock) -> WebhookEndpoint:
    endpoint = await _endpoint(store, endpoint_id, principal, ["id"])
    now, was = clock.now(), endpoint.updated_at
    if change.url is not None:
        endpoint.url = check_url(change.url, field=["url"])
    if change.event_types is not None:
        endpoint.event_types = check_event_types(change.event_types, field=["eventTypes"])
    if change.description is not None:
        endpoint.description = check_description(change.description, field=["description"])
    if change.active is True and not endpoint.active:
        endpoint.enable(at=now)
    park = None
    if change.active is False and endpoint.active:
        endpoint.disable(f"disabled by {principal.actor}", at=now)
        park = endpoint.disabled_reason
    endpoint.updated_at = now
    await store.endpoints.save(endpoint, was=was, park_pending=park)
    return endpoint


async def rotate_secret(store: IntegrationStore, endpoint_id: str, *, principal: Principal,
                        clock: Clock) -> tuple[WebhookEndpoint, str]:
    """A new secret; the old one keeps signing beside it for a day (see `secrets`)."""
    endpoint = await _endpoint(store, endpoint_id, principal, ["id"])
    now, was = clock.now(), endpoint.updated_at
    endpoint.previous_secret, endpoint.previous_until = endpoint.secret, now + ROTATION_OVERLAP
    endpoint.secret, endpoint.updated_at = signing.new_secret(), now
    await store.endpoints.save(endpoint, was=was)
    return endpoint, endpoint.secret


async def delete_endpoint(store: IntegrationStore, endpoint_id: str, *,
                          principal: Principal) -> str:
    endpoint = await _endpoint(store, endpoint_id, principal, ["id"])
    await store.endpoints.delete(endpoint.id)
    return endpoint.id


async def endpoints(store: IntegrationStore, *, principal: Principal) -> list[WebhookEndpoint]:
    return [e for e in await store.endpoints.all() if _mine(principal, e)]


def _page_size(first: int | None) -> int:
    first = 50 if first is None else first
    if not 1 <= first <= MAX_PAGE:
        raise errors.InvalidInput(f"first must be 1-{MAX_PAGE}", field=["first"])
    return first


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.isascii() or not after.isdigit() or len(after) > 18:
        raise errors.InvalidInput("after must be a cursor this API returned", field=["after"])
    return int(after)


def _ids(ids: Sequence[str], field: list[str]) -> list[int]:
    if len(ids) > MAX_IDS:
        raise errors.InvalidInput(f"at most {MAX_IDS} ids at once", field=field)
    out = []
    for i, text in enumerate(ids):
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise errors.NotFound(f"no such id {text[:40]!r}", field=[*field, str(i)])
        out.append(int(text))
    return out


async def deliveries(store: IntegrationStore, endpoint_id: str, *,
                     statuses: Sequence[JobStatus], first: int | None, after: str | None,
                     principal: Principal) -> Page[Job]:
    endpoint = await _endpoint(store, endpoint_id, principal, ["endpointId"])
    return await store.jobs.page(consumer="webhooks", target=endpoint.id, statuses=statuses,
                                 first=_page_size(first), after=_cursor(after))


async def redeliver(store: IntegrationStore, endpoint_id: str, *, ids: Sequence[str] | None,
                    since: datetime | None, principal: Principal, clock: Clock) -> int:
    """Send again: the deliveries named, or every wanted event since a time (both: refused)."""
    if (ids is None) == (since is None):
        raise errors.InvalidInput("give either deliveryIds or since", field=["deliveryIds"])
    endpoint = await _endpoint(store, endpoint_id, principal, ["endpointId"])
    now = clock.now()
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a time without a zone is UTC, as everywhere
    if since is not None and since > now:
        raise errors.InvalidInput("since is in the future", field=["since"])
    return await store.jobs.redeliver(
        endpoint=endpoint, ids=None if ids is None else _ids(ids, ["deliveryIds"]),
        since=since, now=now)


def _consumer(name: str | None) -> str:
    if name not in CONSUMERS:
        raise errors.NotFound(f"no consumer {str(name)[:40]!r} (there are: "
                              f"{', '.join(CONSUMERS)})", field=["consumer"])
    assert name is not None
    return name


async def parked(store: IntegrationStore, *, consumer: str | None, first: int | None,
                 after: str | None) -> Page[Job]:
    """Parked events, of one consumer or of all."""
    return await store.jobs.page(
        consumer=_consumer(consumer) if consumer is not None else "*", target=None,
        statuses=[JobStatus.PARKED], first=_page_size(first), after=_cursor(after))


async def retry_parked(store: IntegrationStore, *, consumer: str, ids: Sequence[str],
                       clock: Clock) -> int:
    return await store.jobs.retry(consumer=_consumer(consumer), ids=_ids(ids, ["ids"]),
                                  now=clock.now())


async def skip_parked(store: IntegrationStore, *, consumer: str, ids: Sequence[str],
                      clock: Clock) -> int:
    return await store.jobs.skip(consumer=_consumer(consumer), ids=_ids(ids, ["ids"]),
                                 now=clock.now())
