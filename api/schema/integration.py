"""Integration: webhook endpoints and their delivery log, parked events (admin, integration)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.common import PageInfo
from domain import integration
from domain.integration import services
from domain.integration.ports import Job, JobStatus
from domain.kernel.ports import Page


@strawberry.type(description="A receiver of signed webhook POSTs (Standard Webhooks). Its "
                             "signing secret is shown once, when created or rotated.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(
        description="Event types delivered (outbox type names); empty: every type.")
    description: str
    active: bool
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled (410 Gone, failing too long, by someone).")
    created_at: datetime

    @classmethod
    def from_domain(cls, e: integration.WebhookEndpoint) -> WebhookEndpoint:
        return cls(id=strawberry.ID(e.id), url=e.url, event_types=list(e.event_types),
                   description=e.description, active=e.active,
                   disabled_reason=e.disabled_reason, created_at=e.created_at)


@strawberry.enum(description="Where one delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"  # not tried yet
    RETRYING = "RETRYING"  # tried, failed, will be tried again
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # parked after the last attempt: redeliver it
    SKIPPED = "SKIPPED"


def _delivery_status(job: Job) -> WebhookDeliveryStatus:
    if job.status is JobStatus.PENDING:
        return WebhookDeliveryStatus.RETRYING if job.last_error else WebhookDeliveryStatus.PENDING
    return {JobStatus.DONE: WebhookDeliveryStatus.DELIVERED,
            JobStatus.PARKED: WebhookDeliveryStatus.FAILED,
            JobStatus.SKIPPED: WebhookDeliveryStatus.SKIPPED}[job.status]


_STORED = {WebhookDeliveryStatus.PENDING: JobStatus.PENDING,
           WebhookDeliveryStatus.RETRYING: JobStatus.PENDING,
           WebhookDeliveryStatus.DELIVERED: JobStatus.DONE,
           WebhookDeliveryStatus.FAILED: JobStatus.PARKED,
           WebhookDeliveryStatus.SKIPPED: JobStatus.SKIPPED}


@strawberry.type(description="One event's delivery to one endpoint, with its attempts.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="Also the `webhook-id` header it is sent with.")
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    last_response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_domain(cls, job: Job) -> WebhookDelivery:
        status = _delivery_status(job)
        waiting = status in (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.RETRYING)
        return cls(id=strawberry.ID(str(job.id)), event_id=job.event_id,
                   event_type=job.event_type, status=status, attempts=job.attempts,
                   last_response_status=job.last_status, last_error=job.last_error,
                   next_attempt_at=job.next_attempt_at if waiting else None,
                   delivered_at=job.done_at if status is WebhookDeliveryStatus.DELIVERED
                   else None, created_at=job.created_at)


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    total_count: int
    page_info: PageInfo
    edges: list[WebhookDeliveryEdge]


@strawberry.type(description="An event a consumer gave up on after its last attempt; nothing "
                             "is dropped: retry it or skip it.")
class ParkedEvent:
    id: strawberry.ID
    consumer: str
    target: str = strawberry.field(description="The webhook endpoint's id ('' for the broker "
                                               "and payments).")
    event_id: str
    event_type: str
    error: str | None
    attempts: int
    parked_at: datetime | None


@strawberry.type
class ParkedEventEdge:
    cursor: str
    node: ParkedEvent


@strawberry.type
class ParkedEventConnection:
    total_count: int
    page_info: PageInfo
    edges: list[ParkedEventEdge]


def _deliveries(page: Page[Job]) -> WebhookDeliveryConnection:
    return WebhookDeliveryConnection(
        total_count=page.total_count,
        page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=False),
        edges=[WebhookDeliveryEdge(cursor=c, node=WebhookDelivery.from_domain(j))
               for c, j in zip(page.cursors, page.items, strict=True)])


def _parked(page: Page[Job]) -> ParkedEventConnection:
    return ParkedEventConnection(
        total_count=page.total_count,
        page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=False),
        edges=[ParkedEventEdge(cursor=c, node=ParkedEvent(
            id=strawberry.ID(str(j.id)), consumer=j.consumer, target=j.target,
            event_id=j.event_id, event_type=j.event_type, error=j.last_error,
            attempts=j.attempts, parked_at=j.parked_at))
            for c, j in zip(page.cursors, page.items, strict=True)])


@strawberry.type
class IntegrationQuery:
    @strawberry.field(description="Webhook endpoints: all (admin) or those this integration "
                                  "created.")
    async def webhook_endpoints(self, info: strawberry.Info[Context, None]
                                ) -> list[WebhookEndpoint]:
        ctx = info.context
        return [WebhookEndpoint.from_domain(e)
                for e in await ctx.app.integration.endpoints(principal=ctx.principal)]

    @strawberry.field(description="An endpoint's deliveries, newest first, with their attempts.")
    async def webhook_deliveries(self, info: strawberry.Info[Context, None],
                                 endpoint_id: strawberry.ID,
                                 status: list[WebhookDeliveryStatus] | None = None,
                                 first: int | None = 50, after: str | None = None
                                 ) -> WebhookDeliveryConnection:
        ctx = info.context
        wanted = set(status or ())
        page = await ctx.app.integration.deliveries(
            str(endpoint_id), statuses=sorted({_STORED[s] for s in wanted}),
            first=first, after=after, principal=ctx.principal)
        if wanted and not wanted >= {WebhookDeliveryStatus.PENDING,
                                     WebhookDeliveryStatus.RETRYING} and (
                wanted & {WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.RETRYING}):
            # pending and retrying are one stored status: keep the one asked for
            keep = [(c, j) for c, j in zip(page.cursors, page.items, strict=True)
                    if j.status is not JobStatus.PENDING or _delivery_status(j) in wanted]
            page = Page(items=[j for _, j in keep], total_count=page.total_count,
                        has_next=page.has_next, cursors=[c for c, _ in keep])
        return _deliveries(page)

    @strawberry.field(description="Events parked after their last attempt (admin).")
    async def parked_events(self, info: strawberry.Info[Context, None],
                            consumer: str | None = None, first: int | None = 50,
                            after: str | None = None) -> ParkedEventConnection:
        return _parked(await info.context.app.integration.parked(
            consumer=consumer, first=first, after=after))


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    event_types: list[str] = strawberry.field(default_factory=list)
    description: str | None = None


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = strawberry.field(
        default=None, description="false disables (pending deliveries are parked); true "
                                  "enables again (redeliver what it missed with `since`).")


@strawberry.input
class WebhookEndpointActionInput:
    id: strawberry.ID


@strawberry.input
class RedeliverWebhooksInput:
    endpoint_id: strawberry.ID
    delivery_ids: list[strawberry.ID] | None = None
    since: datetime | None = strawberry.field(
        default=None, description="Every event since then that the endpoint wants, also those "
                                  "written while it was disabled.")


@strawberry.input
class RetryParkedEventsInput:
    consumer: str
    ids: list[strawberry.ID]


@strawberry.input
class SkipParkedEventsInput:
    consumer: str
    ids: list[strawberry.ID]


@strawberry.type
class CreateWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(description="The signing secret: shown only now.")
    user_errors: list[UserError]


@strawberry.type
class UpdateWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    user_errors: list[UserError]


@strawberry.type
class RotateWebhookSecretPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description="The new secret: shown only now. The old one keeps signing beside it for "
                    "24 hours (two signatures in `webhook-signature`).")
    user_errors: list[UserError]


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class RedeliverWebhooksPayload:
    queued: int
    user_errors: list[UserError]


@strawberry.type
class RetryParkedEventsPayload:
    retried: int
    user_errors: list[UserError]


@strawberry.type
class SkipParkedEventsPayload:
    skipped: int
    user_errors: list[UserError]


def _endpoint(found: integration.WebhookEndpoint | None) -> WebhookEndpoint | None:
    return WebhookEndpoint.from_domain(found) if found is not None else None


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(description="A webhook endpoint; its secret is in this answer only.")
    async def create_webhook_endpoint(self, info: strawberry.Info[Context, None],
                                      input: CreateWebhookEndpointInput
                                      ) -> CreateWebhookEndpointPayload:
        ctx = info.context
        made, errs = await attempt(lambda: ctx.app.integration.create_endpoint(
            url=input.url, event_types=input.event_types, description=input.description,
            principal=ctx.principal))
        return CreateWebhookEndpointPayload(endpoint=_endpoint(made[0]) if made else None,
                                            secret=made[1] if made else None, user_errors=errs)

    @strawberry.mutation(description="Change an endpoint's URL, event types, description, or "
                                     "disable/enable it.")
    async def update_webhook_endpoint(self, info: strawberry.Info[Context, None],
                                      input: UpdateWebhookEndpointInput
                                      ) -> UpdateWebhookEndpointPayload:
        ctx = info.context
        change = services.EndpointChange(url=input.url, event_types=input.event_types,
                                         description=input.description, active=input.active)
        found, errs = await attempt(lambda: ctx.app.integration.update_endpoint(
            str(input.id), change, principal=ctx.principal))
        return UpdateWebhookEndpointPayload(endpoint=_endpoint(found), user_errors=errs)

    @strawberry.mutation(description="A new signing secret (the old one signs too for 24 h).")
    async def rotate_webhook_secret(self, info: strawberry.Info[Context, None],
                                    input: WebhookEndpointActionInput
                                    ) -> RotateWebhookSecretPayload:
        ctx = info.context
        made, errs = await attempt(lambda: ctx.app.integration.rotate_secret(
            str(input.id), principal=ctx.principal))
        return RotateWebhookSecretPayload(endpoint=_endpoint(made[0]) if made else None,
                                          secret=made[1] if made else None, user_errors=errs)

    @strawberry.mutation(description="Delete an endpoint and its delivery log.")
    async def delete_webhook_endpoint(self, info: strawberry.Info[Context, None],
                                      input: WebhookEndpointActionInput
                                      ) -> DeleteWebhookEndpointPayload:
        ctx = info.context
        gone, errs = await attempt(lambda: ctx.app.integration.delete_endpoint(
            str(input.id), principal=ctx.principal))
        return DeleteWebhookEndpointPayload(
            deleted_id=strawberry.ID(gone) if gone else None, user_errors=errs)

    @strawberry.mutation(description="Send deliveries again: those named, or every wanted event "
                                     "since a time.")
    async def redeliver_webhooks(self, info: strawberry.Info[Context, None],
                                 input: RedeliverWebhooksInput) -> RedeliverWebhooksPayload:
        ctx = info.context
        queued, errs = await attempt(lambda: ctx.app.integration.redeliver(
            str(input.endpoint_id), since=input.since, principal=ctx.principal,
            ids=None if input.delivery_ids is None else [str(i) for i in input.delivery_ids]))
        return RedeliverWebhooksPayload(queued=queued or 0, user_errors=errs)

    @strawberry.mutation(description="Parked events of a consumer become due again (admin).")
    async def retry_parked_events(self, info: strawberry.Info[Context, None],
                                  input: RetryParkedEventsInput) -> RetryParkedEventsPayload:
        ctx = info.context
        n, errs = await attempt(lambda: ctx.app.integration.retry_parked(
            consumer=input.consumer, ids=[str(i) for i in input.ids]))
        return RetryParkedEventsPayload(retried=n or 0, user_errors=errs)

    @strawberry.mutation(description="Give up on parked events of a consumer (admin).")
    async def skip_parked_events(self, info: strawberry.Info[Context, None],
                                 input: SkipParkedEventsInput) -> SkipParkedEventsPayload:
        ctx = info.context
        n, errs = await attempt(lambda: ctx.app.integration.skip_parked(
            consumer=input.consumer, ids=[str(i) for i in input.ids]))
        return SkipParkedEventsPayload(skipped=n or 0, user_errors=errs)
